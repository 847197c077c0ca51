/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * cli_gateway_allow and cli_gateway_deny: the rules of a gateway location,
 * built once at configuration into a cligw::Policy (cligw/policy.hpp), and
 * the check of a request's args against them.
 */

#include "ngx_http_cli_gateway.h"

#include <exception>
#include <string>

#include "cligw/error.hpp"
#include "cligw/policy.hpp"


static void ngx_http_cli_gateway_free_policy(void *data);
static void ngx_http_cli_gateway_add_rules(ngx_array_t *conf,
    std::vector<cligw::Rule> &rules);


/* cli_gateway_allow / cli_gateway_deny: one rule, the leading args */

char *
ngx_http_cli_gateway_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_array_t  **rules = (ngx_array_t **) ((char *) conf + cmd->offset);

    ngx_str_t    *value, *word;
    ngx_uint_t    i;
    ngx_array_t  *rule;

    value = (ngx_str_t *) cf->args->elts;

    if (*rules == NGX_CONF_UNSET_PTR) {
        *rules = ngx_array_create(cf->pool, 4, sizeof(ngx_array_t));
        if (*rules == NULL) {
            return (char *) NGX_CONF_ERROR;
        }
    }

    rule = (ngx_array_t *) ngx_array_push(*rules);
    if (rule == NULL
        || ngx_array_init(rule, cf->pool, cf->args->nelts - 1,
                          sizeof(ngx_str_t))
           != NGX_OK)
    {
        return (char *) NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        word = (ngx_str_t *) ngx_array_push(rule);
        if (word == NULL) {
            return (char *) NGX_CONF_ERROR;
        }
        *word = value[i];
    }

    return NGX_CONF_OK;
}


/*
 * The merge of a location: the rules inherited, and for a gateway with
 * rules, its Policy, which lives as long as the configuration. The rules'
 * words point into the configuration's strings.
 */

ngx_int_t
ngx_http_cli_gateway_merge_policy(ngx_conf_t *cf,
    ngx_http_cli_gateway_loc_conf_t *conf,
    ngx_http_cli_gateway_loc_conf_t *prev)
{
    ngx_pool_cleanup_t  *cln;

    ngx_conf_merge_ptr_value(conf->allow, prev->allow, NULL);
    ngx_conf_merge_ptr_value(conf->deny, prev->deny, NULL);

    if (conf->program.data == NULL
        || (conf->allow == NULL && conf->deny == NULL))
    {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    try {
        conf->policy = new cligw::Policy();
        cln->handler = ngx_http_cli_gateway_free_policy;
        cln->data = conf->policy;

        ngx_http_cli_gateway_add_rules(conf->allow, conf->policy->allow);
        ngx_http_cli_gateway_add_rules(conf->deny, conf->policy->deny);

    } catch (const std::exception &e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "cli_gateway: %s", e.what());
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_cli_gateway_free_policy(void *data)
{
    delete (cligw::Policy *) data;
}


static void
ngx_http_cli_gateway_add_rules(ngx_array_t *conf,
    std::vector<cligw::Rule> &rules)
{
    if (conf == NULL) {
        return;
    }

    ngx_array_t *rule = (ngx_array_t *) conf->elts;

    for (ngx_uint_t i = 0; i < conf->nelts; i++) {
        ngx_str_t *words = (ngx_str_t *) rule[i].elts;
        cligw::Rule &r = rules.emplace_back();

        for (ngx_uint_t k = 0; k < rule[i].nelts; k++) {
            r.emplace_back((char *) words[k].data, words[k].len);
        }
    }
}


/* true, with a message naming the rule, when the policy refuses args */

bool
ngx_http_cli_gateway_policy_refused(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx,
    const std::vector<std::string> &args, std::string &message)
{
    if (glcf->policy == NULL) {
        return false;
    }

    cligw::PolicyDecision d = cligw::check_policy(args, *glcf->policy);

    if (d.allowed) {
        return false;
    }

    message = d.rule
        ? "Command refused by cli_gateway_deny \"" + cligw::rule_text(*d.rule)
              + "\""
        : std::string("Command not allowed by any cli_gateway_allow rule");
    std::string escaped = cligw::log_format_args(args);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "cli_gateway: refused user \"%V\" args %s: %s",
                  &ctx->log_user, escaped.c_str(), message.c_str());

    return true;
}

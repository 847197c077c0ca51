/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * cli_gateway_cgroup: the directive, and the check once nginx's whole
 * configuration is read that the workers' user can use the parent cgroup
 * with the limits asked for. A cgroup that cannot work fails nginx -t and
 * a reload (which then keeps the running configuration), never a run.
 */

#include "ngx_http_cli_gateway.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <exception>
#include <string>


static char *ngx_http_cli_gateway_cgroup_limit(ngx_conf_t *cf,
    ngx_http_cli_gateway_cgroup_t *cg, ngx_str_t *arg);
static void ngx_http_cli_gateway_worker_user(ngx_conf_t *cf, uid_t *uid,
    gid_t *gid);


/* cli_gateway_cgroup off | PATH [memory=SIZE] [pids=N] [cpu=N%]; */

char *
ngx_http_cli_gateway_cgroup(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    char                              *rv;
    ngx_str_t                         *value, path;
    ngx_uint_t                         i;
    ngx_http_cli_gateway_cgroup_t     *cg, **slot;
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    if (glcf->cgroup != NGX_CONF_UNSET_PTR) {
        return (char *) "is duplicate";
    }

    value = (ngx_str_t *) cf->args->elts;

    if (cf->args->nelts == 2
        && ngx_strcmp(value[1].data, (u_char *) "off") == 0)
    {
        glcf->cgroup = NULL;
        return NGX_CONF_OK;
    }

    path = value[1];

    while (path.len > 1 && path.data[path.len - 1] == '/') {
        path.len--;
    }

    if (path.len == 0 || path.data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_cgroup\" needs an absolute path, "
                           "\"%V\" is not", &value[1]);
        return (char *) NGX_CONF_ERROR;
    }

    cg = (ngx_http_cli_gateway_cgroup_t *)
             ngx_pcalloc(cf->pool, sizeof(ngx_http_cli_gateway_cgroup_t));
    if (cg == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    /* NUL-terminated for the system calls */
    cg->path.data = ngx_pstrdup(cf->pool, &path);
    if (cg->path.data == NULL) {
        return (char *) NGX_CONF_ERROR;
    }
    cg->path.data[path.len] = '\0';
    cg->path.len = path.len;

    if (ngx_strlen(cg->path.data) != cg->path.len) {
        return (char *) "has a NUL byte in the path";
    }

    cg->limits = cligw::CgroupLimits();
    cg->conf_file = cf->conf_file->file.name.data;
    cg->conf_line = cf->conf_file->line;

    for (i = 2; i < cf->args->nelts; i++) {
        rv = ngx_http_cli_gateway_cgroup_limit(cf, cg, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    glcf->cgroup = cg;

    gmcf = (ngx_http_cli_gateway_main_conf_t *)
               ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_cli_gateway_module);

    if (gmcf->cgroups == NULL) {
        gmcf->cgroups = ngx_array_create(cf->pool, 2, sizeof(void *));
        if (gmcf->cgroups == NULL) {
            return (char *) NGX_CONF_ERROR;
        }
    }

    slot = (ngx_http_cli_gateway_cgroup_t **) ngx_array_push(gmcf->cgroups);
    if (slot == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    *slot = cg;

    return NGX_CONF_OK;
}


static char *
ngx_http_cli_gateway_cgroup_limit(ngx_conf_t *cf,
    ngx_http_cli_gateway_cgroup_t *cg, ngx_str_t *arg)
{
    off_t      size;
    ngx_int_t  n;
    ngx_str_t  v;

    if (arg->len > 7 && ngx_strncmp(arg->data, "memory=", 7) == 0) {
        v.data = arg->data + 7;
        v.len = arg->len - 7;

        size = ngx_parse_offset(&v);
        if (size <= 0) {
            goto invalid;
        }

        cg->limits.memory_max = size;
        return NGX_CONF_OK;
    }

    if (arg->len > 5 && ngx_strncmp(arg->data, "pids=", 5) == 0) {
        n = ngx_atoi(arg->data + 5, arg->len - 5);
        if (n <= 0) {
            goto invalid;
        }

        cg->limits.pids_max = n;
        return NGX_CONF_OK;
    }

    if (arg->len > 5 && ngx_strncmp(arg->data, "cpu=", 4) == 0
        && arg->data[arg->len - 1] == '%')
    {
        n = ngx_atoi(arg->data + 4, arg->len - 5);
        if (n <= 0 || n > 100000) {
            goto invalid;
        }

        cg->limits.cpu_percent = n;
        return NGX_CONF_OK;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"cli_gateway_cgroup\": invalid parameter \"%V\", "
                       "use memory=SIZE, pids=NUMBER or cpu=PERCENT%%", arg);

    return (char *) NGX_CONF_ERROR;
}


/* init_main_conf: every cli_gateway_cgroup, as the workers will use it */

ngx_int_t
ngx_http_cli_gateway_check_cgroups(ngx_conf_t *cf,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    uid_t                            uid;
    gid_t                            gid;
    ngx_uint_t                       i;
    std::string                      error;
    ngx_http_cli_gateway_cgroup_t  **cgs, *cg;

    if (gmcf->cgroups == NULL) {
        return NGX_OK;
    }

    ngx_http_cli_gateway_worker_user(cf, &uid, &gid);

    cgs = (ngx_http_cli_gateway_cgroup_t **) gmcf->cgroups->elts;

    for (i = 0; i < gmcf->cgroups->nelts; i++) {
        cg = cgs[i];

        try {
            if (cligw::check_cgroup_parent((char *) cg->path.data, cg->limits,
                                           uid, gid, error))
            {
                continue;
            }

        } catch (const std::exception &e) {
            error = e.what();
        }

        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"cli_gateway_cgroup\" in %s:%ui: %s",
                      cg->conf_file, cg->conf_line, error.c_str());
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Whom the workers will run as: nginx's "user", or its default as root. */

static void
ngx_http_cli_gateway_worker_user(ngx_conf_t *cf, uid_t *uid, gid_t *gid)
{
    struct group     *gr;
    struct passwd    *pw;
    ngx_core_conf_t  *ccf;

    *uid = geteuid();
    *gid = getegid();

    if (*uid != 0) {
        return;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        *uid = ccf->user;
        *gid = ccf->group;
        return;
    }

    /* "user" not given (or given after the http block): nginx's default */
    pw = getpwnam(NGX_USER);
    gr = getgrnam(NGX_GROUP);

    if (pw) {
        *uid = pw->pw_uid;
    }

    if (gr) {
        *gid = gr->gr_gid;
    }
}

// Parsing of the gateway's JSON request body with cJSON.

#include "cligw_request.hpp"

#include <cjson/cJSON.h>

#include <cctype>
#include <cmath>
#include <memory>

namespace cligw {

namespace {

struct JsonDeleter {
    void operator()(cJSON *j) const { cJSON_Delete(j); }
};

using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

// A byte that cannot appear in a string that passes valid_utf8(): it marks
// where the body escaped a NUL, which cJSON's C strings would cut at.
constexpr char nul_mark = '\xFF';

bool valid_utf8(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;

        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return false;
        }

        if (i + len > s.size()) return false;
        auto b = static_cast<unsigned char>(s[i + 1]);
        if (b < lo || b > hi) return false;
        for (std::size_t k = 2; k < len; k++) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

// One pass over the raw body: JSON forbids raw control bytes in strings
// (cJSON lets them through), and "\u0000" becomes nul_mark so that a NUL
// in a value is seen after parsing. Returns false on a control byte.
bool prescan(std::string_view body, std::string &rewritten, bool &has_nul)
{
    bool in_string = false;
    has_nul = false;

    for (std::size_t i = 0; i < body.size(); i++) {
        auto c = static_cast<unsigned char>(body[i]);

        if (!in_string) {
            in_string = c == '"';
            continue;
        }
        if (c == '"') {
            in_string = false;
        } else if (c < 0x20) {
            return false;
        } else if (c == '\\' && i + 1 < body.size()) {
            if (body.substr(i + 1, 5) == "u0000") {
                if (!has_nul) {
                    rewritten.assign(body.data(), body.size());
                    has_nul = true;
                }
                rewritten.replace(i, 6, 6, nul_mark); // same length
                i += 4;
            }
            i++; // the escaped character
        }
    }
    return true;
}

std::string index_field(const char *name, std::size_t i)
{
    return std::string(name) + "[" + std::to_string(i) + "]";
}

void add(ParseResult &r, std::string field, std::string message,
         std::string code)
{
    r.errors.push_back({ std::move(field), std::move(message),
                         std::move(code) });
}

// A string value: valid UTF-8 and no NUL. Returns false after adding
// the error.
bool check_string(ParseResult &r, const std::string &field, const char *s,
                  std::size_t max_len)
{
    std::string_view v(s);

    if (!valid_utf8(v)) {
        bool nul = v.find(nul_mark) != std::string_view::npos;
        add(r, field,
            nul ? "must not contain NUL" : "must be valid UTF-8",
            "invalid_value");
        return false;
    }
    if (max_len && v.size() > max_len) {
        add(r, field,
            "is longer than " + std::to_string(max_len) + " bytes",
            "too_long");
        return false;
    }
    return true;
}

void parse_args(ParseResult &r, const cJSON *args, const RequestLimits &lim)
{
    if (!cJSON_IsArray(args)) {
        add(r, "args", "must be an array of strings", "invalid_type");
        return;
    }

    std::size_t n = static_cast<std::size_t>(cJSON_GetArraySize(args));
    if (lim.max_args && n > lim.max_args) {
        add(r, "args",
            "has more than " + std::to_string(lim.max_args) + " elements",
            "too_many");
        return;
    }

    r.request.args.reserve(n);

    std::size_t i = 0;
    for (const cJSON *e = args->child; e; e = e->next, i++) {
        std::string field = index_field("args", i);

        if (!cJSON_IsString(e)) {
            add(r, field, "must be a string", "invalid_type");
            continue;
        }
        if (check_string(r, field, e->valuestring, lim.max_arg_length)) {
            r.request.args.emplace_back(e->valuestring);
        }
    }
}

void parse_timeout(ParseResult &r, const cJSON *t)
{
    if (!cJSON_IsNumber(t)) {
        add(r, "timeout_secs", "must be a non-negative integer",
            "invalid_type");
        return;
    }

    double v = t->valuedouble;
    if (!std::isfinite(v) || v < 0 || std::floor(v) != v) {
        add(r, "timeout_secs", "must be a non-negative integer",
            "invalid_value");
        return;
    }

    r.request.has_timeout = true;
    r.request.timeout_secs = v >= 18446744073709551615.0
                                 ? UINT64_MAX
                                 : static_cast<std::uint64_t>(v);
}

void parse_context_id(ParseResult &r, const cJSON *c)
{
    if (cJSON_IsNull(c)) {
        return;
    }
    if (!cJSON_IsString(c)) {
        add(r, "context_id", "must be a string", "invalid_type");
        return;
    }
    if (check_string(r, "context_id", c->valuestring, 0)) {
        r.request.has_context_id = true;
        r.request.context_id = c->valuestring;
    }
}

} // namespace

ParseResult parse_cli_request(std::string_view body,
                              const RequestLimits &limits)
{
    ParseResult r;
    std::string rewritten;
    bool has_nul;

    if (!prescan(body, rewritten, has_nul)) {
        r.status = ParseStatus::bad_json;
        r.message = "Invalid JSON: control character in a string";
        return r;
    }

    std::string_view text = has_nul ? std::string_view(rewritten) : body;
    const char *end = nullptr;

    JsonPtr root(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end,
                                           false));

    if (root) {
        // cJSON stops after the value: anything but space after it is bad
        for (const char *p = end; p < text.data() + text.size(); p++) {
            if (!std::isspace(static_cast<unsigned char>(*p))) {
                root.reset();
                break;
            }
        }
    }

    if (!root) {
        r.status = ParseStatus::bad_json;
        r.message = body.empty() ? "Invalid JSON: empty body"
                                 : "Invalid JSON: syntax error";
        return r;
    }

    if (!cJSON_IsObject(root.get())) {
        add(r, "body", "must be a JSON object", "invalid_type");
    } else {
        const cJSON *args = nullptr, *timeout = nullptr, *context = nullptr;

        for (const cJSON *f = root->child; f; f = f->next) {
            const cJSON **slot = nullptr;
            std::string_view key(f->string ? f->string : "");

            if (key == "args") slot = &args;
            else if (key == "timeout_secs") slot = &timeout;
            else if (key == "context_id") slot = &context;
            else continue; // unknown fields are ignored

            if (*slot) {
                add(r, std::string(key), "is given more than once",
                    "duplicate");
                continue;
            }
            *slot = f;
        }

        if (args == nullptr) {
            add(r, "args", "is required", "missing");
        } else {
            parse_args(r, args, limits);
        }
        if (timeout) {
            parse_timeout(r, timeout);
        }
        if (context) {
            parse_context_id(r, context);
        }
    }

    if (!r.errors.empty()) {
        r.status = ParseStatus::invalid;
        r.message = "Invalid request body";
        r.request = CliRequest();
    }

    return r;
}

bool is_json_content_type(std::string_view ct)
{
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
            s.remove_prefix(1);
        }
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
            s.remove_suffix(1);
        }
        return s;
    };

    ct = trim(ct.substr(0, ct.find(';')));

    auto lower_equal = [](std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); i++) {
            if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) {
                return false;
            }
        }
        return true;
    };

    constexpr std::string_view app = "application/";
    constexpr std::string_view suffix = "+json";

    if (ct.size() < app.size() || !lower_equal(ct.substr(0, app.size()), app)) {
        return false;
    }

    std::string_view sub = ct.substr(app.size());

    return lower_equal(sub, "json")
           || (sub.size() > suffix.size()
               && lower_equal(sub.substr(sub.size() - suffix.size()),
                              suffix));
}

} // namespace cligw

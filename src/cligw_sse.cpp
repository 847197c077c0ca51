// SSE framing and serde_json-compatible JSON escaping with lossy UTF-8.

#include "cligw_sse.hpp"

#include <array>

namespace cligw {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD

// What a byte needs: copied as is, escaped, or checked as UTF-8.
enum : unsigned char { plain, escape, multibyte };

constexpr std::array<unsigned char, 256> byte_classes()
{
    std::array<unsigned char, 256> t{};
    for (int c = 0; c < 256; c++) {
        t[c] = c < 0x20 || c == '"' || c == '\\' ? escape
               : c < 0x80                        ? plain
                                                 : multibyte;
    }
    return t;
}

constexpr std::array<unsigned char, 256> byte_class = byte_classes();

void append_escape(std::string &out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '"':  out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: {
        const char u[] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };
        out.append(u, sizeof(u));
    }
    }
}

// Length of the valid UTF-8 sequence at s[i], or 0 with `bad` set to the
// length of its maximal subpart (the bytes one U+FFFD stands for).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t &bad)
{
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF; // range of the second byte

    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;       // no overlongs
        if (c == 0xED) hi = 0x9F;       // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;       // no overlongs
        if (c == 0xF4) hi = 0x8F;       // nothing above U+10FFFF
    } else {
        bad = 1;                        // continuation, C0, C1, F5..FF
        return 0;
    }

    for (std::size_t k = 1; k < len; k++) {
        if (i + k >= s.size()) {
            bad = k;
            return 0;
        }
        auto b = static_cast<unsigned char>(s[i + k]);
        if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) {
            bad = k;
            return 0;
        }
    }

    return len;
}

void append_event(std::string &out, std::string_view json)
{
    out += "event: cli\ndata: ";
    out += json;
    out += "\n\n";
}

} // namespace

void json_append_escaped(std::string &out, std::string_view s)
{
    std::size_t run = 0; // start of bytes not yet copied
    std::size_t i = 0;

    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);

        switch (byte_class[c]) {
        case plain:
            i++;
            continue;

        case escape:
            out.append(s.data() + run, i - run);
            append_escape(out, c);
            run = ++i;
            continue;

        default: {
            std::size_t bad = 0;
            std::size_t len = utf8_sequence(s, i, bad);
            if (len) {
                i += len;
                continue;
            }
            out.append(s.data() + run, i - run);
            out += replacement;
            run = i += bad;
        }
        }
    }

    out.append(s.data() + run, s.size() - run);
}

void sse_append_started(std::string &out, long pid)
{
    append_event(out, "{\"type\":\"started\",\"pid\":" + std::to_string(pid)
                          + "}");
}

void sse_append_line(std::string &out, StreamKind kind, std::string_view line)
{
    out += kind == StreamKind::out
               ? "event: cli\ndata: {\"type\":\"stdout\",\"data\":\""
               : "event: cli\ndata: {\"type\":\"stderr\",\"data\":\"";
    json_append_escaped(out, line);
    out += "\\n\"}\n\n";
}

void sse_append_error(std::string &out, std::string_view message)
{
    out += "event: cli\ndata: {\"type\":\"error\",\"message\":\"";
    json_append_escaped(out, message);
    out += "\"}\n\n";
}

void sse_append_exit_code(std::string &out, int code)
{
    append_event(out, "{\"type\":\"exit_code\",\"code\":" + std::to_string(code)
                          + "}");
}

std::size_t sse_line_size_bound(std::size_t len)
{
    // "\u00xx" is the longest escape; U+FFFD (3 bytes) replaces >= 1 byte
    return 6 * len + sizeof("event: cli\ndata: {\"type\":\"stdout\",\"data\":\"")
           + sizeof("\\n\"}\n\n");
}

} // namespace cligw

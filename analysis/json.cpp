#include "analysis/json.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace eisim::analysis {

namespace {

[[noreturn]] void type_error(const char* want) { throw std::runtime_error(std::string("json: value is not ") + want); }

void write_string(std::ostream& os, const std::string& s) {
    os << '"';
    for (unsigned char c: s) {
        switch (c) {
        case '"': os << "\\\""; break;
        case '\\': os << "\\\\"; break;
        case '\n': os << "\\n"; break;
        case '\r': os << "\\r"; break;
        case '\t': os << "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                os << buf;
            } else {
                os << c;
            }
        }
    }
    os << '"';
}

void write_number(std::ostream& os, double x) {
    if (!std::isfinite(x)) { os << "null"; return; }
    // The shortest of %.15g, %.16g, %.17g that reads back as the same double (%.17g always does).
    char buf[32];
    for (int digits = 15; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (std::strtod(buf, nullptr) == x) break;
    }
    os << buf;
}

// Recursive-descent parser over the whole text.
struct parser {
    const std::string& t;
    std::size_t i = 0;

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error("json: " + what + " at offset " + std::to_string(i));
    }
    void skip() { while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) ++i; }
    bool eat(char c) { skip(); if (i < t.size() && t[i] == c) { ++i; return true; } return false; }
    void expect(char c) { if (!eat(c)) fail(std::string("expected '") + c + "'"); }
    bool word(const char* w) {
        const std::string s(w);
        if (t.compare(i, s.size(), s) == 0) { i += s.size(); return true; }
        return false;
    }

    std::string string_body() {
        std::string out;
        while (true) {
            if (i >= t.size()) fail("unterminated string");
            char c = t[i++];
            if (c == '"') return out;
            if (c != '\\') { out += c; continue; }
            if (i >= t.size()) fail("unterminated escape");
            c = t[i++];
            switch (c) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                if (i + 4 > t.size()) fail("short \\u escape");
                const unsigned cp = static_cast<unsigned>(std::strtoul(t.substr(i, 4).c_str(), nullptr, 16));
                i += 4;
                // UTF-8 encoding of a code point of the Basic Multilingual Plane.
                if (cp < 0x80) out += static_cast<char>(cp);
                else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
                else {
                    out += static_cast<char>(0xE0 | (cp >> 12));
                    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                    out += static_cast<char>(0x80 | (cp & 0x3F));
                }
                break;
            }
            default: fail("bad escape");
            }
        }
    }

    json value() {
        skip();
        if (i >= t.size()) fail("unexpected end");
        const char c = t[i];
        if (c == '{') {
            ++i;
            json o = json::object();
            if (eat('}')) return o;
            do {
                skip();
                if (!eat('"')) fail("expected a key");
                std::string key = string_body();
                expect(':');
                o.set(key, value());
            } while (eat(','));
            expect('}');
            return o;
        }
        if (c == '[') {
            ++i;
            json a = json::array();
            if (eat(']')) return a;
            do a.push_back(value()); while (eat(','));
            expect(']');
            return a;
        }
        if (c == '"') { ++i; return json(string_body()); }
        if (word("null")) return json();
        if (word("true")) return json(true);
        if (word("false")) return json(false);
        const std::size_t start = i;
        bool integral = true;
        if (t[i] == '-') ++i;
        while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.' || t[i] == 'e' || t[i] == 'E' ||
                                t[i] == '+' || t[i] == '-')) {
            if (!std::isdigit(static_cast<unsigned char>(t[i]))) integral = false;
            ++i;
        }
        if (i == start || (i == start + 1 && t[start] == '-')) fail("unexpected character");
        const std::string num = t.substr(start, i - start);
        char* end = nullptr;
        if (integral) {
            const long long v = std::strtoll(num.c_str(), &end, 10);
            if (*end == '\0') return json(v);
        }
        const double x = std::strtod(num.c_str(), &end);
        if (*end != '\0') { i = start; fail("bad number"); }
        return json(x);
    }
};

} // namespace

bool json::as_bool() const { if (kind_ != kind::boolean) type_error("a boolean"); return b_; }
double json::as_double() const {
    if (kind_ == kind::integer) return static_cast<double>(i_);
    if (kind_ != kind::number) type_error("a number");
    return x_;
}
long long json::as_int() const {
    if (kind_ == kind::integer) return i_;
    if (kind_ == kind::number && x_ == std::floor(x_)) return static_cast<long long>(x_);
    type_error("an integer");
}
const std::string& json::as_string() const { if (kind_ != kind::string) type_error("a string"); return s_; }

std::size_t json::size() const {
    if (kind_ == kind::array) return a_.size();
    if (kind_ == kind::object) return o_.size();
    type_error("an array or object");
}

const json& json::operator[](std::size_t i) const {
    if (kind_ != kind::array) type_error("an array");
    if (i >= a_.size()) throw std::runtime_error("json: index " + std::to_string(i) + " out of range");
    return a_[i];
}

const json& json::operator[](const std::string& key) const {
    if (kind_ != kind::object) type_error("an object");
    for (auto& kv: o_) if (kv.first == key) return kv.second;
    throw std::runtime_error("json: no member '" + key + "'");
}

bool json::contains(const std::string& key) const {
    if (kind_ != kind::object) return false;
    for (auto& kv: o_) if (kv.first == key) return true;
    return false;
}

const json& json::at_path(const std::string& dotted) const {
    const json* j = this;
    std::size_t pos = 0;
    while (pos <= dotted.size()) {
        const std::size_t dot = dotted.find('.', pos);
        const std::string key = dotted.substr(pos, dot == std::string::npos? std::string::npos: dot - pos);
        if (!j->contains(key)) throw std::runtime_error("json: no member '" + key + "' in path '" + dotted + "'");
        j = &(*j)[key];
        if (dot == std::string::npos) break;
        pos = dot + 1;
    }
    return *j;
}

const std::vector<std::pair<std::string, json>>& json::items() const {
    if (kind_ != kind::object) type_error("an object");
    return o_;
}

json& json::push_back(json v) {
    if (kind_ == kind::null) kind_ = kind::array;
    if (kind_ != kind::array) type_error("an array");
    a_.push_back(std::move(v));
    return a_.back();
}

json& json::set(const std::string& key, json v) {
    if (kind_ == kind::null) kind_ = kind::object;
    if (kind_ != kind::object) type_error("an object");
    for (auto& kv: o_) if (kv.first == key) { kv.second = std::move(v); return kv.second; }
    o_.emplace_back(key, std::move(v));
    return o_.back().second;
}

void json::write_at(std::ostream& os, int indent, int depth) const {
    const auto newline = [&](int d) {
        if (indent < 0) return;
        os << '\n' << std::string(static_cast<std::size_t>(indent*d), ' ');
    };
    switch (kind_) {
    case kind::null: os << "null"; break;
    case kind::boolean: os << (b_? "true": "false"); break;
    case kind::integer: os << i_; break;
    case kind::number: write_number(os, x_); break;
    case kind::string: write_string(os, s_); break;
    case kind::array: {
        // Arrays of scalars stay on one line; arrays of objects get one element per line.
        bool flat = true;
        for (auto& e: a_) if (e.is_array() || e.is_object()) flat = false;
        os << '[';
        for (std::size_t k = 0; k < a_.size(); ++k) {
            if (k) os << (flat? ", ": ",");
            if (!flat) newline(depth + 1);
            a_[k].write_at(os, indent, depth + 1);
        }
        if (!flat && !a_.empty()) newline(depth);
        os << ']';
        break;
    }
    case kind::object: {
        os << '{';
        for (std::size_t k = 0; k < o_.size(); ++k) {
            if (k) os << ',';
            newline(depth + 1);
            write_string(os, o_[k].first);
            os << (indent < 0? ":": ": ");
            o_[k].second.write_at(os, indent, depth + 1);
        }
        if (!o_.empty()) newline(depth);
        os << '}';
        break;
    }
    }
}

void json::write(std::ostream& os, int indent) const { write_at(os, indent, 0); }

std::string json::dump(int indent) const {
    std::ostringstream ss;
    write(ss, indent);
    return ss.str();
}

json json::parse(const std::string& text) {
    parser p{text};
    json v = p.value();
    p.skip();
    if (p.i != text.size()) p.fail("trailing characters");
    return v;
}

} // namespace eisim::analysis

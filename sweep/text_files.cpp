#include "sweep/text_files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "models/error.hpp"
#include "sweep/sweep_dir.hpp"

namespace eisim::sweep {

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return s.str();
}

void write_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + "." + host_name() + "." + std::to_string(::getpid()) + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            throw user_error("cannot write '" + path + "' (is the disk full?)");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        throw user_error("cannot write '" + path + "': " + why);
    }
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c: s) out += c == '"'? std::string("\"\""): std::string(1, c);
    return out + "\"";
}

} // namespace eisim::sweep

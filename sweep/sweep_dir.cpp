#include "sweep/sweep_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/file.h>
#include <unistd.h>

#include "models/error.hpp"
#include "sweep/text_files.hpp"

namespace eisim::sweep {

namespace {

namespace fs = std::filesystem;

// A number for the manifest: empty when unknown.
std::string number(double x, const char* format) {
    if (std::isnan(x)) return "";
    char buf[64];
    std::snprintf(buf, sizeof buf, format, x);
    return buf;
}

// NaN is no JSON number: unknowns are null.
nlohmann::json real(double x) { return std::isfinite(x)? nlohmann::json(x): nlohmann::json(nullptr); }
double real_of(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number()? it->get<double>(): std::numeric_limits<double>::quiet_NaN();
}

} // namespace

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || !*buf) return "localhost";
    return buf;
}

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

sweep_dir::sweep_dir(std::string path): path_(std::move(path)) {
    while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
}

void sweep_dir::prepare(const std::string& sweep_file) const {
    std::error_code ec;
    if (fs::exists(path_, ec) && !fs::is_directory(path_, ec))
        throw user_error("--out '" + path_ + "' exists and is not a directory");
    for (const char* sub: {"", "/configs", "/runs", "/status", "/logs", "/claims"}) {
        fs::create_directories(path_ + sub, ec);
        if (!fs::is_directory(path_ + sub))
            throw user_error("cannot create the directory '" + path_ + sub + "': " + (ec? ec.message(): std::string("not a directory")));
    }
    const std::string text = read_text(sweep_file).value_or(""), copy = path_ + "/sweep.toml";
    if (fs::exists(copy, ec)) {
        if (read_text(copy).value_or("") != text)
            throw user_error("--out '" + path_ + "' holds another sweep ('" + copy + "' differs from '" + sweep_file +
                             "'): one directory holds one sweep; choose another --out, or restore the sweep file");
        return;
    }
    write_atomically(copy, text);
}

void sweep_dir::write_configs(const sweep_plan& plan) const {
    for (auto& p: plan.points) {
        const std::string file = config_file(p.id), text = to_toml(p.resolved);
        if (read_text(file).value_or("") != text) write_atomically(file, text);
    }
}

std::optional<run_status> sweep_dir::read_status(const std::string& id) const {
    const std::string text = read_text(status_file(id)).value_or("");
    if (text.empty()) return std::nullopt;
    try {
        const auto j = nlohmann::json::parse(text);
        run_status s;
        s.id = j.at("id").get<std::string>();
        s.status = j.at("status").get<std::string>();
        s.exit_code = j.value("exit_code", -1);
        s.attempts = j.value("attempts", 0);
        s.seconds = real_of(j, "seconds");
        s.final_loss = real_of(j, "final_loss");
        s.final_accuracy = real_of(j, "final_accuracy");
        s.host = j.value("host", "");
        s.rank = j.value("rank", -1);
        s.pid = j.value("pid", 0L);
        s.message = j.value("message", "");
        s.updated_utc = j.value("updated_utc", "");
        if (s.id != id) return std::nullopt;
        return s;
    } catch (const std::exception&) {
        std::fprintf(stderr, "eisim: note: the status file '%s' cannot be read; the run counts as pending\n", status_file(id).c_str());
        return std::nullopt;
    }
}

void sweep_dir::write_status(const run_status& s) const {
    nlohmann::json j = {{"id", s.id}, {"status", s.status}, {"exit_code", s.exit_code}, {"attempts", s.attempts},
                        {"seconds", real(s.seconds)}, {"final_loss", real(s.final_loss)}, {"final_accuracy", real(s.final_accuracy)},
                        {"host", s.host}, {"rank", s.rank}, {"pid", s.pid}, {"message", s.message}, {"updated_utc", utc_now()}};
    write_atomically(status_file(s.id), j.dump(1) + "\n");
}

void sweep_dir::write_manifest(const sweep_plan& plan) const {
    const std::string lock = path_ + "/manifest.lock";
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw user_error("cannot open '" + lock + "': " + std::strerror(errno));
    while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {} // the status files are read after the last writer's rename
    try {
        std::string csv = "id";
        for (auto& k: plan.swept_keys) csv += "," + csv_field(k);
        csv += ",status,exit_code,attempts,seconds,final_loss,final_accuracy,host,rank\n";
        for (auto& p: plan.points) {
            const run_status s = read_status(p.id).value_or(run_status{});
            csv += p.id;
            for (auto& v: p.values) csv += "," + csv_field(v.shown);
            csv += "," + s.status + "," + (s.exit_code >= 0? std::to_string(s.exit_code): "") + "," + std::to_string(s.attempts) + "," +
                   number(s.seconds, "%.3f") + "," + number(s.final_loss, "%.9g") + "," + number(s.final_accuracy, "%.9g") + "," +
                   csv_field(s.host) + "," + (s.rank >= 0? std::to_string(s.rank): "") + "\n";
        }
        write_atomically(manifest_file(), csv);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

std::optional<run_claim> run_claim::take(const std::string& path, std::string& holder) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw user_error("cannot open the claim file '" + path + "': " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char buf[300] = {};
        const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        holder = n > 0? std::string(buf, static_cast<std::size_t>(n)): "another process";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        ::close(fd);
        return std::nullopt;
    }
    const std::string me = host_name() + " pid " + std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
        ::close(fd);
        throw user_error("cannot write the claim file '" + path + "': " + std::strerror(errno));
    }
    return run_claim(fd);
}

run_claim::~run_claim() {
    if (fd_ >= 0) ::close(fd_); // the flock goes with the descriptor
}

} // namespace eisim::sweep

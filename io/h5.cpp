#include "io/h5.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace eisim::h5 {

std::string utf8_or_escaped(const std::string& s) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto continues = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
        return i < s.size() && byte(i) >= lo && byte(i) <= hi;
    };
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const unsigned c = byte(i);
        std::size_t len = 0; // the length of a well-formed sequence at i (RFC 3629), 0 if none
        if (c < 0x80) len = 1;
        else if (c >= 0xC2 && c <= 0xDF) len = continues(i + 1)? 2: 0;
        else if (c >= 0xE0 && c <= 0xEF) {
            const unsigned lo = c == 0xE0? 0xA0: 0x80, hi = c == 0xED? 0x9F: 0xBF; // no overlong forms, no surrogates
            len = continues(i + 1, lo, hi) && continues(i + 2)? 3: 0;
        } else if (c >= 0xF0 && c <= 0xF4) {
            const unsigned lo = c == 0xF0? 0x90: 0x80, hi = c == 0xF4? 0x8F: 0xBF; // no overlong forms, nothing above U+10FFFF
            len = continues(i + 1, lo, hi) && continues(i + 2) && continues(i + 3)? 4: 0;
        }
        if (len == 0) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
            ++i;
        } else {
            out.append(s, i, len);
            i += len;
        }
    }
    return out;
}


namespace {

// Metadata read attempts of a SWMR reader (HDF5's default is 100): see open_file.
constexpr unsigned swmr_read_attempts = 8;

// The system error behind a failed HDF5 call, where its error stack names one (the sec2 driver
// writes "errno = N, error message = '...'"), as (errno, message); (0, HDF5's innermost
// description, e.g. "incorrect metadata checksum after all read attempts") when none does.
std::pair<int, std::string> system_error_of_stack() {
    std::pair<int, std::string> found{0, ""};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto& out = *static_cast<std::pair<int, std::string>*>(data);
        const std::string desc = e->desc? e->desc: "";
        if (out.first == 0 && !desc.empty()) out.second = desc; // walking down: the last one is the innermost
        const auto at = desc.find("errno = ");
        if (out.first == 0 && at != std::string::npos) {
            out.first = std::atoi(desc.c_str() + at + 8);
            const auto m = desc.find("error message = '", at);
            if (m != std::string::npos) out.second = desc.substr(m + 17, desc.find('\'', m + 17) - (m + 17));
        }
        return 0;
    }, &found);
    H5Eclear2(H5E_DEFAULT);
    return found;
}

// A failed call: a storage_error when storage ran out (no space, a file-size limit, a quota), else
// a file_error.
[[noreturn]] void fail(const std::string& what) {
    const auto [err, message] = system_error_of_stack();
    if (err == ENOSPC) throw storage_error(what + ": no space left on the disk");
    if (err == EFBIG) throw storage_error(what + ": the file-size limit (ulimit -f) is reached");
    if (err == EDQUOT) throw storage_error(what + ": the disk quota is exceeded");
    if (err != 0) throw file_error(what + " (" + message + ")");
    if (!message.empty()) throw file_error(what + " (HDF5: " + utf8_or_escaped(message) + ")");
    throw file_error(what);
}

hid_t check(hid_t id, const std::string& what) {
    if (id < 0) fail(what);
    return id;
}

void check(herr_t err, const char* what, const std::string& name) {
    if (err < 0) fail(std::string(what) + " '" + name + "' failed");
}

template <typename T> hid_t mem_type();
template <> hid_t mem_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t mem_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t mem_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t mem_type<std::int8_t>() { return H5T_NATIVE_INT8; }
template <> hid_t mem_type<std::uint64_t>() { return H5T_NATIVE_UINT64; }
template <> hid_t mem_type<std::uint32_t>() { return H5T_NATIVE_UINT32; }
template <typename T> hid_t file_type();
template <> hid_t file_type<double>() { return H5T_IEEE_F64LE; }
template <> hid_t file_type<std::int64_t>() { return H5T_STD_I64LE; }
template <> hid_t file_type<std::int8_t>() { return H5T_STD_I8LE; }
template <> hid_t file_type<std::uint64_t>() { return H5T_STD_U64LE; }
template <> hid_t file_type<std::uint32_t>() { return H5T_STD_U32LE; }

// Writes T from memory as the file type of F (HDF5 converts, in its own small buffer).
template <typename T, typename F = T>
void write_impl(hid_t loc, const std::string& name, const T* data, const std::vector<hsize_t>& dims) {
    handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "dataspace for " + name), H5Sclose);
    handle dset(check(H5Dcreate2(loc, name.c_str(), file_type<F>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      "cannot create dataset '" + name + "'"), H5Dclose);
    hsize_t n = 1;
    for (auto d: dims) n *= d;
    if (n > 0) check(H5Dwrite(dset, mem_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing dataset", name);
}

template <typename T>
std::vector<T> read_impl(hid_t loc, const std::string& name) {
    if (!exists(loc, name)) fail("missing dataset '" + name + "'");
    handle dset(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"), H5Dclose);
    handle space(check(H5Dget_space(dset), "dataspace of " + name), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0) fail("cannot read the size of dataset '" + name + "'");
    std::vector<T> out(static_cast<std::size_t>(n));
    if (n > 0) check(H5Dread(dset, mem_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "reading dataset", name);
    return out;
}

handle open_attr(hid_t obj, const std::string& name) {
    if (H5Aexists(obj, name.c_str()) <= 0) fail("missing attribute '" + name + "'");
    return handle(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "cannot open attribute '" + name + "'"), H5Aclose);
}

handle new_attr(hid_t obj, const std::string& name, hid_t type, hid_t space) {
    if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
    return handle(check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                        "cannot create attribute '" + name + "'"), H5Aclose);
}

} // namespace

void quiet() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

handle create_file(const std::string& path, bool swmr, bool exclusive) {
    quiet();
    handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (swmr) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    return handle(check(H5Fcreate(path.c_str(), exclusive? H5F_ACC_EXCL: H5F_ACC_TRUNC, H5P_DEFAULT, fapl),
                        "cannot create file '" + path + "'"), H5Fclose);
}

bool is_hdf5(const std::string& path) {
    quiet();
    std::ifstream f(path);
    if (!f.good()) return false;
    return H5Fis_hdf5(path.c_str()) > 0;
}

handle open_file(const std::string& path, bool write) {
    quiet();
    std::ifstream f(path);
    if (!f.good()) fail("cannot open '" + path + "': no such file or not readable");
    if (H5Fis_hdf5(path.c_str()) <= 0) fail("'" + path + "' is not an HDF5 file");
    const unsigned flags = write? H5F_ACC_RDWR: (H5F_ACC_RDONLY | H5F_ACC_SWMR_READ);
    // A SWMR reader retries a metadata block whose checksum fails, since a writer may be changing
    // it; HDF5's default (100 attempts, with growing sleeps) makes a damaged file hang a reader for
    // many minutes. A few attempts cover a live writer; a damaged file then fails in seconds.
    handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_metadata_read_attempts(fapl, swmr_read_attempts);
    hid_t id = H5Fopen(path.c_str(), flags, fapl);
    if (id < 0 && !write) id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
    return handle(check(id, "cannot open '" + path + "' as HDF5 (truncated or damaged, or marked as open by a writer that died "
                            "outside SWMR mode, a mark `h5clear -s` clears)"), H5Fclose);
}

handle open_file_for_resume(const std::string& path) {
    quiet();
    if (!is_hdf5(path)) fail("cannot resume '" + path + "': not an HDF5 file");
    handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    // The only writer: a checksum that fails is damage, not a write in progress; no retries.
    H5Pset_metadata_read_attempts(fapl, 1);
    hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, fapl);
    if (id < 0) {
        // A writer killed in SWMR mode leaves the file marked as open; clear the mark (as h5clear -s)
        // in the same open, in SWMR mode. (Clearing it in an open of its own, without SWMR, left a
        // window: a kill there marked the file as open by a writer outside SWMR mode, which no
        // SWMR reader opens: the fault campaign found it, once in its first thousand cases.)
        hbool_t clear = 1;
        if (H5Pexist(fapl, "clear_status_flags") > 0) H5Pset(fapl, "clear_status_flags", &clear);
        id = H5Fopen(path.c_str(), H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, fapl);
    }
    handle file(check(id, "cannot reopen '" + path + "' for writing (is another eisim still writing it?)"), H5Fclose);
    // A writer killed between flushes can leave the superblock's end of allocation (EOA) behind
    // metadata it had already written and linked: the resumed writer then allocates from the old
    // EOA and its next flush of such an entry fails ("addr overflow, ... eoa = ..."; 2 of 977 kills
    // in the fault campaign, the next resume succeeded). As h5clear --increment does, move the EOA
    // to the end of the file first (max(EOA, EOF); a file closed cleanly has EOF = EOA: no change).
    if (H5Fincrement_filesize(file, 0) < 0) fail("cannot reopen '" + path + "' for writing: setting its end of allocation failed");
    return file;
}

void flush(hid_t file) {
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) fail("flushing the file failed");
}

void sync(hid_t file) {
    flush(file);
    void* vfd = nullptr;
    if (H5Fget_vfd_handle(file, H5P_DEFAULT, &vfd) >= 0 && vfd) ::fsync(*static_cast<int*>(vfd)); // the sec2 driver's descriptor
}

handle create_group(hid_t loc, const std::string& name) {
    return handle(check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create group '" + name + "'"), H5Gclose);
}

handle open_group(hid_t loc, const std::string& name) {
    if (!exists(loc, name)) fail("missing group '" + name + "'");
    return handle(check(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open group '" + name + "'"), H5Gclose);
}

bool exists(hid_t loc, const std::string& path) {
    // Check each component, as H5Lexists requires.
    std::size_t pos = 0;
    while (true) {
        std::size_t next = path.find('/', pos);
        std::string prefix = path.substr(0, next);
        if (!prefix.empty() && prefix != "/" && H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
        if (next == std::string::npos) return true;
        pos = next + 1;
    }
}

std::vector<std::string> subgroups(hid_t loc) {
    std::vector<std::string> names;
    hsize_t idx = 0;
    const herr_t err = H5Literate(loc, H5_INDEX_NAME, H5_ITER_INC, &idx,
        [](hid_t g, const char* name, const H5L_info_t*, void* data) -> herr_t {
            const hid_t obj = H5Oopen(g, name, H5P_DEFAULT);
            if (obj < 0) return 0; // a dangling link: not a group
            if (H5Iget_type(obj) == H5I_GROUP) static_cast<std::vector<std::string>*>(data)->push_back(name);
            H5Oclose(obj);
            return 0;
        }, &names);
    if (err < 0) fail("cannot list the members of a group");
    return names;
}

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
    handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type, value.empty()? 1: value.size());
    H5Tset_cset(type, H5T_CSET_UTF8);
    handle space(H5Screate(H5S_SCALAR), H5Sclose);
    auto a = new_attr(obj, name, type, space);
    check(H5Awrite(a, type, value.empty()? "": value.c_str()), "writing attribute", name);
}

void write_attr(hid_t obj, const std::string& name, double value) {
    handle space(H5Screate(H5S_SCALAR), H5Sclose);
    auto a = new_attr(obj, name, H5T_IEEE_F64LE, space);
    check(H5Awrite(a, H5T_NATIVE_DOUBLE, &value), "writing attribute", name);
}

void write_attr(hid_t obj, const std::string& name, std::int64_t value) {
    handle space(H5Screate(H5S_SCALAR), H5Sclose);
    auto a = new_attr(obj, name, H5T_STD_I64LE, space);
    check(H5Awrite(a, H5T_NATIVE_INT64, &value), "writing attribute", name);
}

void write_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& value) {
    hsize_t n = value.size();
    handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    auto a = new_attr(obj, name, H5T_STD_I64LE, space);
    check(H5Awrite(a, H5T_NATIVE_INT64, value.data()), "writing attribute", name);
}

void write_attr(hid_t obj, const std::string& name, std::uint32_t value) {
    handle space(H5Screate(H5S_SCALAR), H5Sclose);
    auto a = new_attr(obj, name, H5T_STD_U32LE, space);
    check(H5Awrite(a, H5T_NATIVE_UINT32, &value), "writing attribute", name);
}

void write_attr(hid_t obj, const std::string& name, const std::vector<std::uint32_t>& value) {
    hsize_t n = value.size();
    handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    auto a = new_attr(obj, name, H5T_STD_U32LE, space);
    check(H5Awrite(a, H5T_NATIVE_UINT32, value.data()), "writing attribute", name);
}

void write_attr(hid_t obj, const std::string& name, std::int8_t value) {
    handle space(H5Screate(H5S_SCALAR), H5Sclose);
    auto a = new_attr(obj, name, H5T_STD_I8LE, space);
    check(H5Awrite(a, H5T_NATIVE_INT8, &value), "writing attribute", name);
}

void write_attr_vlen(hid_t obj, const std::string& name, const std::string& value) {
    handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    handle space(H5Screate(H5S_SCALAR), H5Sclose);
    auto a = new_attr(obj, name, type, space);
    const char* s = value.c_str();
    check(H5Awrite(a, type, &s), "writing attribute", name);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::vector<std::int64_t> read_attr_ints(hid_t obj, const std::string& name) {
    auto a = open_attr(obj, name);
    handle space(check(H5Aget_space(a), "dataspace of attribute " + name), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0) fail("cannot read the size of attribute '" + name + "'");
    std::vector<std::int64_t> out(static_cast<std::size_t>(n));
    if (n > 0) check(H5Aread(a, H5T_NATIVE_INT64, out.data()), "reading attribute", name);
    return out;
}

namespace {

// Variable-length strings live in the file's global heap, and HDF5 1.10 reads a damaged heap
// collection out of bounds: a crash (SIGSEGV inside H5HG_read; the fault campaign met it in
// damaged run files of formats 2 to 4, and flipped bytes in a heap crash h5py 63 times in 200).
// Every variable-length string (run files of format 6 and before 4, h5py's, SONATA's) is read in a
// child process, so that a damaged heap ends as a named error (exit 2) and never kills the command.
// Set in the child: the strings it reads are read there, not in a grandchild (file_strings).
bool in_reading_child = false;

std::vector<std::string> read_in_child(const std::function<std::vector<std::string>()>& read, const std::string& what) {
    if (in_reading_child) return read();
    int fd[2];
    if (::pipe(fd) != 0) return read(); // no pipe: read here, as before
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fd[0]), ::close(fd[1]);
        return read();
    }
    if (pid == 0) { // the child: read, send [status]([length][bytes])... or [status][message]
        ::close(fd[0]);
        in_reading_child = true;
        // A crash here must end the child, as the parent expects: no handler of the parent's
        // (a test framework's, Python's faulthandler) reports it, and no core is dumped.
        for (int sig: {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(sig, SIG_DFL);
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        std::string msg;
        char status = 0;
        try {
            for (auto& x: read()) {
                const std::uint64_t len = x.size();
                msg.append(reinterpret_cast<const char*>(&len), sizeof len).append(x);
            }
        } catch (const std::exception& e) {
            status = 1, msg = e.what();
        }
        msg.insert(0, 1, status);
        for (std::size_t at = 0; at < msg.size();) {
            const ssize_t w = ::write(fd[1], msg.data() + at, msg.size() - at);
            if (w <= 0) ::_exit(3);
            at += static_cast<std::size_t>(w);
        }
        ::_exit(0);
    }
    ::close(fd[1]);
    std::string got;
    char buf[65536];
    bool timed_out = false;
    while (true) {
        pollfd p{fd[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, 60000); // a heap read that loops: give up after a minute
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) { timed_out = true; break; }
        const ssize_t r = ::read(fd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got.append(buf, static_cast<std::size_t>(r));
    }
    ::close(fd[0]);
    if (timed_out) ::kill(pid, SIGKILL);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    const std::string damaged = what + ": the file is damaged (its variable-length strings cannot be read";
    if (timed_out) fail(damaged + " within a minute)");
    if (WIFSIGNALED(st)) fail(damaged + ": HDF5 died of signal " + std::to_string(WTERMSIG(st)) + " reading them, in a child process)");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || got.empty()) fail(damaged + ")");
    if (got[0] != 0) fail(got.substr(1));
    std::vector<std::string> out;
    for (std::size_t at = 1; at < got.size();) {
        std::uint64_t len = 0;
        if (got.size() - at < sizeof len) fail(damaged + ")");
        std::memcpy(&len, got.data() + at, sizeof len);
        at += sizeof len;
        if (got.size() - at < len) fail(damaged + ")");
        out.push_back(got.substr(at, len));
        at += len;
    }
    return out;
}

// The memory type that reads variable-length strings of the file type `stored` (HDF5 converts no
// character sets: h5py writes UTF-8, so the memory type takes the stored one).
handle vlen_memory_type(hid_t stored) {
    handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(stored));
    return mem;
}

} // namespace

std::string read_attr_string(hid_t obj, const std::string& name) {
    auto a = open_attr(obj, name);
    handle type(H5Aget_type(a), H5Tclose);
    if (H5Tget_class(type) != H5T_STRING) fail("attribute '" + name + "' is not a string");
    handle space(check(H5Aget_space(a), "dataspace of attribute " + name), H5Sclose);
    if (const hssize_t n = H5Sget_simple_extent_npoints(space); n != 1)
        fail("attribute '" + name + "' holds " + std::to_string(n) + " strings, not one");
    if (H5Tis_variable_str(type) > 0) {
        const auto read = [&] {
            const handle mem = vlen_memory_type(type);
            char* s = nullptr;
            check(H5Aread(a, mem, &s), "reading attribute", name);
            std::string out = s? s: "";
            H5free_memory(s);
            return std::vector<std::string>{out};
        };
        return utf8_or_escaped(read_in_child(read, "attribute '" + name + "'").at(0));
    }
    const std::size_t n = H5Tget_size(type);
    std::string out(n, '\0');
    check(H5Aread(a, type, out.data()), "reading attribute", name);
    out.resize(std::char_traits<char>::length(out.c_str()));
    return utf8_or_escaped(out);
}

double read_attr_double(hid_t obj, const std::string& name) {
    auto a = open_attr(obj, name);
    double v = 0;
    check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), "reading attribute", name);
    return v;
}

void update_attr(hid_t obj, const std::string& name, std::int64_t value) {
    auto a = open_attr(obj, name);
    check(H5Awrite(a, H5T_NATIVE_INT64, &value), "writing attribute", name);
}

std::int64_t read_attr_int(hid_t obj, const std::string& name) {
    auto a = open_attr(obj, name);
    std::int64_t v = 0;
    check(H5Aread(a, H5T_NATIVE_INT64, &v), "reading attribute", name);
    return v;
}

void write(hid_t loc, const std::string& name, const double* d, const std::vector<hsize_t>& dims) { write_impl(loc, name, d, dims); }
void write(hid_t loc, const std::string& name, const std::int64_t* d, const std::vector<hsize_t>& dims) { write_impl(loc, name, d, dims); }
void write(hid_t loc, const std::string& name, const std::int8_t* d, const std::vector<hsize_t>& dims) { write_impl(loc, name, d, dims); }
void write(hid_t loc, const std::string& name, const std::vector<double>& v) { write_impl(loc, name, v.data(), {v.size()}); }
void write(hid_t loc, const std::string& name, const std::vector<std::int64_t>& v) { write_impl(loc, name, v.data(), {v.size()}); }
void write(hid_t loc, const std::string& name, const std::vector<std::int8_t>& v) { write_impl(loc, name, v.data(), {v.size()}); }
void write(hid_t loc, const std::string& name, const std::vector<std::int32_t>& v) {
    write_impl<std::int32_t, std::int64_t>(loc, name, v.data(), {v.size()});
}

void write(hid_t loc, const std::string& name, const std::uint64_t* d, const std::vector<hsize_t>& dims) { write_impl(loc, name, d, dims); }
void write(hid_t loc, const std::string& name, const std::uint32_t* d, const std::vector<hsize_t>& dims) { write_impl(loc, name, d, dims); }
void write(hid_t loc, const std::string& name, const std::vector<std::uint64_t>& v) { write_impl(loc, name, v.data(), {v.size()}); }
void write(hid_t loc, const std::string& name, const std::vector<std::uint32_t>& v) { write_impl(loc, name, v.data(), {v.size()}); }

namespace {
// A 1-D dataset of n UTF-8 strings, each `width` bytes, null-padded (H5T_VARIABLE:
// variable-length), written from `data`: the strings' pointers, or their padded bytes.
void write_string_dataset(hid_t loc, const std::string& name, std::size_t width, hsize_t n, const void* data) {
    handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type, width);
    if (width != H5T_VARIABLE) H5Tset_strpad(type, H5T_STR_NULLPAD);
    H5Tset_cset(type, H5T_CSET_UTF8);
    handle space(check(H5Screate_simple(1, &n, nullptr), "dataspace for " + name), H5Sclose);
    handle dset(check(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      "cannot create dataset '" + name + "'"), H5Dclose);
    if (n > 0) check(H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing dataset", name);
}
} // namespace

void write(hid_t loc, const std::string& name, const std::vector<std::string>& v) {
    std::vector<const char*> ptrs;
    for (auto& s: v) ptrs.push_back(s.c_str());
    write_string_dataset(loc, name, H5T_VARIABLE, v.size(), ptrs.data());
}

void write_fixed_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v) {
    std::size_t width = 1;
    for (auto& s: v) width = std::max(width, s.size());
    std::string buf(width*v.size(), '\0');
    for (std::size_t i = 0; i < v.size(); ++i) buf.replace(i*width, v[i].size(), v[i]);
    write_string_dataset(loc, name, width, v.size(), buf.data());
}

bool holds_strings(hid_t loc, const std::string& name) {
    auto dset = open_dataset(loc, name);
    handle ftype(H5Dget_type(dset), H5Tclose);
    return H5Tget_class(ftype) == H5T_STRING;
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name) {
    auto dset = open_dataset(loc, name);
    handle ftype(H5Dget_type(dset), H5Tclose);
    if (H5Tget_class(ftype) != H5T_STRING) fail("dataset '" + name + "' does not hold strings");
    handle space(check(H5Dget_space(dset), "dataspace of " + name), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n < 0) fail("cannot read the size of dataset '" + name + "'");
    std::vector<std::string> out;
    if (H5Tis_variable_str(ftype) > 0) {
        const auto read = [&] {
            const handle mem = vlen_memory_type(ftype);
            std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
            std::vector<std::string> got;
            if (n > 0) check(H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "reading dataset", name);
            for (auto* p: ptrs) got.push_back(p? p: "");
            if (n > 0) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
            return got;
        };
        for (auto& x: read_in_child(read, "dataset '" + name + "'")) out.push_back(utf8_or_escaped(x));
    } else {
        const std::size_t width = H5Tget_size(ftype);
        std::string buf(width*static_cast<std::size_t>(n), '\0');
        if (n > 0) check(H5Dread(dset, ftype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "reading dataset", name);
        for (hssize_t i = 0; i < n; ++i) {
            std::string s = buf.substr(static_cast<std::size_t>(i)*width, width);
            out.push_back(utf8_or_escaped(s.substr(0, s.find('\0'))));
        }
    }
    return out;
}

namespace {

// The path by which `obj` was opened ("/" for the root); "" when HDF5 cannot tell.
std::string path_of(hid_t obj) {
    const ssize_t n = H5Iget_name(obj, nullptr, 0);
    if (n <= 0) return "";
    std::string out(static_cast<std::size_t>(n) + 1, '\0');
    H5Iget_name(obj, out.data(), out.size());
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// The key of `name` relative to the object at `path`.
std::string key_of(const std::string& path, const std::string& name) {
    if (!name.empty() && name[0] == '/') return name;
    return path == "/"? "/" + name: path + "/" + name;
}

// What the child sends: for each entry its key, its number of strings, then the strings.
std::vector<std::string> every_string(hid_t file) {
    std::vector<std::string> out;
    const auto add = [&](const std::string& key, std::vector<std::string> values) {
        out.push_back(key);
        out.push_back(std::to_string(values.size()));
        for (auto& v: values) out.push_back(std::move(v));
    };
    const auto visit = [](hid_t root, const char* name, const H5O_info_t* info, void* data) -> herr_t {
        auto& add_entry = *static_cast<std::function<void(hid_t, const std::string&, const H5O_info_t&)>*>(data);
        add_entry(root, name, *info);
        return 0;
    };
    std::function<void(hid_t, const std::string&, const H5O_info_t&)> add_entry =
        [&](hid_t root, const std::string& name, const H5O_info_t& info) {
            const std::string path = name == "."? "/": "/" + name;
            handle obj(check(H5Oopen(root, name.c_str(), H5P_DEFAULT), "cannot open object '" + path + "'"), H5Oclose);
            std::vector<std::string> attrs;
            hsize_t idx = 0;
            check(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx,
                              [](hid_t, const char* a, const H5A_info_t*, void* d) -> herr_t {
                                  static_cast<std::vector<std::string>*>(d)->push_back(a);
                                  return 0;
                              }, &attrs), "listing the attributes of", path);
            for (auto& a: attrs) {
                handle at(check(H5Aopen(obj, a.c_str(), H5P_DEFAULT), "cannot open attribute '" + a + "'"), H5Aclose);
                handle type(H5Aget_type(at), H5Tclose);
                handle space(H5Aget_space(at), H5Sclose);
                // One string, as read_attr_string reads (a list of them is left to be read when asked for).
                if (H5Tget_class(type) == H5T_STRING && H5Sget_simple_extent_npoints(space) == 1)
                    add(path + "@" + a, {read_attr_string(obj, a)});
            }
            if (info.type == H5O_TYPE_DATASET && path != "/") {
                handle type(H5Dget_type(obj), H5Tclose);
                if (H5Tget_class(type) == H5T_STRING) add(path, read_strings(root, name));
            }
        };
    check(H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, visit, &add_entry, H5O_INFO_BASIC), "visiting the objects of the file", "");
    return out;
}

} // namespace

file_strings::file_strings(hid_t file) {
    std::vector<std::string> sent;
    try {
        sent = read_in_child([&] { return every_string(file); }, "the file's strings");
    } catch (const file_error&) {
        return; // read each when asked for: its own damage is named then
    }
    for (std::size_t at = 0; at + 1 < sent.size();) {
        const std::string& key = sent[at];
        const std::size_t n = std::stoul(sent[at + 1]);
        at += 2;
        if (sent.size() - at < n) { strings_.clear(); return; }
        strings_[key].assign(sent.begin() + static_cast<long>(at), sent.begin() + static_cast<long>(at + n));
        at += n;
    }
}

std::string file_strings::attr(hid_t obj, const std::string& name) const {
    const auto it = strings_.find(path_of(obj) + "@" + name);
    return it != strings_.end() && it->second.size() == 1? it->second[0]: read_attr_string(obj, name);
}

std::vector<std::string> file_strings::dataset(hid_t loc, const std::string& name) const {
    const auto it = strings_.find(key_of(path_of(loc), name));
    return it != strings_.end()? it->second: read_strings(loc, name);
}

handle open_dataset(hid_t loc, const std::string& name) {
    if (!exists(loc, name)) fail("missing dataset '" + name + "'");
    return handle(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"), H5Dclose);
}

void hard_link(hid_t loc, const std::string& target, const std::string& name) {
    if (!exists(loc, target)) fail("cannot link '" + name + "' to the missing object '" + target + "'");
    check(H5Lcreate_hard(loc, target.c_str(), loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT), "linking", name);
}

std::vector<hsize_t> shape(hid_t loc, const std::string& name) {
    if (!exists(loc, name)) fail("missing dataset '" + name + "'");
    handle dset(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"), H5Dclose);
    handle space(check(H5Dget_space(dset), "dataspace of " + name), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) fail("cannot read the shape of '" + name + "'");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    return dims;
}

std::vector<double> read_double(hid_t loc, const std::string& name) { return read_impl<double>(loc, name); }
std::vector<std::int64_t> read_int(hid_t loc, const std::string& name) { return read_impl<std::int64_t>(loc, name); }

std::vector<double> read_rows(hid_t loc, const std::string& name, hsize_t row0, hsize_t nrows) {
    auto dims = shape(loc, name);
    if (dims.size() == 1) dims.push_back(1); // a series: one value per row
    if (dims.size() != 2) fail("dataset '" + name + "' is not 1-D or 2-D");
    if (row0 + nrows > dims[0]) fail("dataset '" + name + "' has " + std::to_string(dims[0]) + " rows; asked for row " + std::to_string(row0 + nrows - 1));
    handle dset(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"), H5Dclose);
    handle space(H5Dget_space(dset), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space);
    hsize_t start[2] = {row0, 0}, count[2] = {nrows, dims[1]};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    handle mem(H5Screate_simple(rank, count, nullptr), H5Sclose);
    std::vector<double> out(nrows*dims[1]);
    if (!out.empty()) check(H5Dread(dset, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, out.data()), "reading dataset", name);
    return out;
}

void create_double(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims) {
    handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "dataspace for " + name), H5Sclose);
    handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    handle dset(check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                      "cannot create dataset '" + name + "'"), H5Dclose);
}

void overwrite(hid_t loc, const std::string& name, const double* data) {
    handle dset(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"), H5Dclose);
    check(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "writing dataset", name);
}

void overwrite(hid_t loc, const std::string& name, const fill_block& fill) {
    handle dset(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"), H5Dclose);
    handle space(H5Dget_space(dset), H5Sclose);
    if (H5Sget_simple_extent_ndims(space) != 1) fail("dataset '" + name + "' is not 1-D");
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space, &n, nullptr);
    std::vector<double> buf(std::min(n, block_values));
    for (hsize_t first = 0; first < n; first += block_values) {
        hsize_t count = std::min(block_values, n - first);
        fill(first, count, buf.data());
        H5Sselect_hyperslab(space, H5S_SELECT_SET, &first, nullptr, &count, nullptr);
        handle mem(H5Screate_simple(1, &count, nullptr), H5Sclose);
        check(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, buf.data()), "writing dataset", name);
    }
}

void write(hid_t loc, const std::string& name, hsize_t n, const fill_block& fill) {
    handle space(check(H5Screate_simple(1, &n, nullptr), "dataspace for " + name), H5Sclose);
    handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER); // every value is written below
    handle dset(check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                      "cannot create dataset '" + name + "'"), H5Dclose);
    dset.reset();
    overwrite(loc, name, fill);
}

void start_swmr(hid_t file) {
    if (H5Fstart_swmr_write(file) < 0) fail("cannot start single-writer/multiple-reader mode");
}

template <typename T> void create_extendable(hid_t loc, const std::string& name) {
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {block_values};
    handle space(H5Screate_simple(1, dims, maxdims), H5Sclose);
    handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(dcpl, 1, chunk);
    handle(check(H5Dcreate2(loc, name.c_str(), file_type<T>(), space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                 "cannot create dataset '" + name + "'"), H5Dclose);
}

template <typename T> void write_extendable(hid_t loc, const std::string& name, const T* data, hsize_t n) {
    handle dset(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"), H5Dclose);
    hsize_t newdims[1] = {n};
    check(H5Dset_extent(dset, newdims), "extending dataset", name);
    if (n == 0) return;
    handle space(H5Dget_space(dset), H5Sclose);
    hsize_t start[1] = {0}, count[1] = {n};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    handle mem(H5Screate_simple(1, count, nullptr), H5Sclose);
    check(H5Dwrite(dset, mem_type<T>(), mem, space, H5P_DEFAULT, data), "appending to dataset", name);
}

template void create_extendable<double>(hid_t, const std::string&);
template void create_extendable<std::int64_t>(hid_t, const std::string&);
template void create_extendable<std::uint64_t>(hid_t, const std::string&);
template void write_extendable<double>(hid_t, const std::string&, const double*, hsize_t);
template void write_extendable<std::int64_t>(hid_t, const std::string&, const std::int64_t*, hsize_t);
template void write_extendable<std::uint64_t>(hid_t, const std::string&, const std::uint64_t*, hsize_t);

row_appender::row_appender(hid_t loc, const std::string& name, hsize_t cols, bool float32, int compression):
    cols_(cols), chunk_cols_(std::clamp<hsize_t>(cols, 1, block_values)) {
    hsize_t dims[2] = {0, cols}, maxdims[2] = {H5S_UNLIMITED, cols}, chunk[2] = {1, chunk_cols_};
    handle space(H5Screate_simple(2, dims, maxdims), H5Sclose);
    handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(dcpl, 2, chunk);
    // Every chunk is written whole, so no fill value is ever needed: without one, HDF5 writes a
    // chunk larger than its chunk cache straight to the file instead of staging a filled copy of it.
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    if (compression > 0) { H5Pset_shuffle(dcpl); H5Pset_deflate(dcpl, static_cast<unsigned>(compression)); }
    dset_ = handle(check(H5Dcreate2(loc, name.c_str(), float32? H5T_IEEE_F32LE: H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                         "cannot create dataset '" + name + "'"), H5Dclose);
}

row_appender row_appender::series(hid_t loc, const std::string& name, bool integer) {
    row_appender r;
    r.rank_ = 1;
    r.cols_ = 1;
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {series_chunk};
    handle space(H5Screate_simple(1, dims, maxdims), H5Sclose);
    handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(dcpl, 1, chunk);
    r.dset_ = handle(check(H5Dcreate2(loc, name.c_str(), integer? H5T_STD_I64LE: H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                           "cannot create dataset '" + name + "'"), H5Dclose);
    return r;
}

row_appender row_appender::open(hid_t loc, const std::string& name) {
    row_appender r;
    auto dims = shape(loc, name);
    if (dims.size() == 1) r.rank_ = 1, dims.push_back(1);
    if (dims.size() != 2) fail("dataset '" + name + "' is not 1-D or 2-D");
    r.dset_ = handle(check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset '" + name + "'"), H5Dclose);
    r.rows_ = dims[0];
    r.cols_ = dims[1];
    if (r.rank_ == 1) return r;
    handle dcpl(H5Dget_create_plist(r.dset_), H5Pclose);
    hsize_t chunk[2] = {1, 1};
    if (H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 2, chunk) == 2) r.chunk_cols_ = std::max<hsize_t>(chunk[1], 1);
    return r;
}

void row_appender::append(const double* row) {
    hsize_t newdims[2] = {rows_ + 1, cols_};
    check(H5Dset_extent(dset_, newdims), "extending dataset", "row"); // a series reads only newdims[0]
    handle space(H5Dget_space(dset_), H5Sclose);
    hsize_t start[2] = {rows_, 0}, count[2] = {1, cols_};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    handle mem(H5Screate_simple(rank_, count, nullptr), H5Sclose);
    if (cols_ > 0) check(H5Dwrite(dset_, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, row), "appending to dataset", "row");
    ++rows_;
}

void row_appender::append(const fill_block& fill) {
    if (rank_ == 1) {
        double v = 0;
        fill(0, 1, &v);
        append(&v);
        return;
    }
    hsize_t newdims[2] = {rows_ + 1, cols_};
    check(H5Dset_extent(dset_, newdims), "extending dataset", "row");
    handle space(H5Dget_space(dset_), H5Sclose);
    // Blocks of whole chunks (a file written before rows were chunked in blocks has one chunk per row).
    std::vector<double> buf(std::min(cols_, chunk_cols_));
    for (hsize_t c0 = 0; c0 < cols_; c0 += chunk_cols_) {
        const hsize_t n = std::min(chunk_cols_, cols_ - c0);
        fill(c0, n, buf.data());
        hsize_t start[2] = {rows_, c0}, count[2] = {1, n};
        H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
        handle mem(H5Screate_simple(2, count, nullptr), H5Sclose);
        check(H5Dwrite(dset_, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, buf.data()), "appending to dataset", "row");
    }
    ++rows_;
}

void row_appender::truncate(hsize_t rows) {
    hsize_t newdims[2] = {rows, cols_};
    check(H5Dset_extent(dset_, newdims), "truncating dataset", "row");
    rows_ = rows;
}

} // namespace eisim::h5

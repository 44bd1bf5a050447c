#pragma once
// What the export tests share: small run files made once per test process through the CLI, and
// readers for the SONATA datasets.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "io/h5.hpp"
#include "tests/support/approx.hpp"

namespace eisim::test {

inline const std::string exe = EISIM_EXE;
inline const std::string small_network =
    " --set populations.E.size=40 --set populations.I.size=10 --set task.duration_ms=50 --set task.batch=4";

/// A run file of the small network, made once per (steps, record_every) and kept for the process
/// (removed at its exit).
inline const std::string& small_run(int steps = 3, int record_every = 1) {
    struct files: std::map<std::pair<int, int>, std::string> {
        ~files() { for (auto& kv: *this) std::remove(kv.second.c_str()); }
    };
    static files made;
    auto& path = made[{steps, record_every}];
    if (path.empty()) {
        path = temp_path(".h5");
        const auto r = run(exe + " run -q" + small_network + " --set training.steps=" + std::to_string(steps) +
                           " --set training.record_every=" + std::to_string(record_every) + " --out " + path);
        if (r.code != 0) throw std::runtime_error("making the test run file failed: " + r.output);
    }
    return path;
}

/// A fresh directory path (not created).
inline std::string temp_dir() { return temp_path(".dir"); }

/// A dataset of unsigned integers read as uint64 (any integer type on disk).
inline std::vector<std::uint64_t> read_u64(hid_t loc, const std::string& name) {
    auto dset = h5::open_dataset(loc, name);
    h5::handle space(H5Dget_space(dset), H5Sclose);
    std::vector<std::uint64_t> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    if (!out.empty()) H5Dread(dset, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    return out;
}

/// Is the stored type of dataset `name` equal to `type` (e.g. H5T_STD_U64LE)?
inline bool dataset_type_is(hid_t loc, const std::string& name, hid_t type) {
    auto dset = h5::open_dataset(loc, name);
    h5::handle t(H5Dget_type(dset), H5Tclose);
    return H5Tequal(t, type) > 0;
}

/// Are `a` and `b` two names (hard links) of one object in `loc`, and its only two names? The same
/// file and address, two links: the data is stored once and reads the same through both names.
inline bool hard_links_of_one_object(hid_t loc, const std::string& a, const std::string& b) {
    H5O_info_t ia, ib;
    if (H5Oget_info_by_name(loc, a.c_str(), &ia, H5P_DEFAULT) < 0) return false;
    if (H5Oget_info_by_name(loc, b.c_str(), &ib, H5P_DEFAULT) < 0) return false;
    return ia.fileno == ib.fileno && ia.addr == ib.addr && ia.rc == 2;
}

/// Is the stored type of attribute `name` of `obj` equal to `type`?
inline bool attr_type_is(hid_t obj, const std::string& name, hid_t type) {
    h5::handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
    h5::handle t(H5Aget_type(a), H5Tclose);
    return H5Tequal(t, type) > 0;
}

/// A space-separated SONATA types table: the header's columns, then one row per non-empty line
/// (bmtk writes NULL for a missing value, so no field is empty).
inline std::vector<std::map<std::string, std::string>> read_types(const std::string& path) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    std::istringstream hs(line);
    std::vector<std::string> cols;
    for (std::string c; hs >> c;) cols.push_back(c);
    std::vector<std::map<std::string, std::string>> rows;
    while (std::getline(f, line)) {
        std::istringstream ls(line);
        std::map<std::string, std::string> row;
        for (auto& c: cols) ls >> row[c];
        if (!row[cols[0]].empty()) rows.push_back(row);
    }
    return rows;
}

} // namespace eisim::test

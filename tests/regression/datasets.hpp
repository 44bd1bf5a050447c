#pragma once
// Every dataset of a run file by path, as doubles, and their comparison: what "equal to the
// uninterrupted run's file, dataset for dataset" means in the regression tests.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/h5.hpp"

namespace eisim::test {

using dataset_map = std::map<std::string, std::vector<double>>;

/// Every dataset under `loc`, by path (int datasets converted, strings as their characters).
inline void collect(hid_t loc, const std::string& prefix, dataset_map& out) {
    std::pair<std::string, dataset_map*> ctx(prefix, &out);
    H5Literate(loc, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, [](hid_t g, const char* name, const H5L_info_t*, void* data) -> herr_t {
        auto& o = *static_cast<std::pair<std::string, dataset_map*>*>(data);
        H5O_info_t info;
        H5Oget_info_by_name(g, name, &info, H5P_DEFAULT);
        const std::string path = o.first + "/" + name;
        if (info.type == H5O_TYPE_GROUP) {
            auto sub = h5::open_group(g, name);
            collect(sub, path, *o.second);
        } else if (info.type == H5O_TYPE_DATASET) {
            auto d = h5::open_dataset(g, name);
            h5::handle type(H5Dget_type(d), H5Tclose);
            if (H5Tget_class(type) == H5T_STRING) { // strings as their characters, one after another
                auto& v = (*o.second)[path];
                for (auto& str: h5::read_strings(g, name)) v.insert(v.end(), str.begin(), str.end());
            } else {
                (*o.second)[path] = h5::read_double(g, name);
            }
        }
        return 0;
    }, &ctx);
}

/// Every dataset of the file at `path`.
inline dataset_map all_datasets(const std::string& path) {
    dataset_map out;
    auto f = h5::open_file(path);
    collect(f, "", out);
    return out;
}

/// Equal values, NaN (no value) equal to NaN.
inline bool same_values(const std::vector<double>& x, const std::vector<double>& y) {
    return x.size() == y.size() &&
           std::equal(x.begin(), x.end(), y.begin(), [](double u, double v) { return u == v || (std::isnan(u) && std::isnan(v)); });
}

} // namespace eisim::test

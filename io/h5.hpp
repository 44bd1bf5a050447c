#pragma once
// Small RAII wrappers over the HDF5 C library: every hid_t is owned by exactly one `handle` and
// closed with the right H5?close. Reading and writing of the few shapes eisim uses (1-D and 2-D
// datasets of double, int64, int8, uint64, uint32 and variable-length strings; scalar and string
// attributes; a 2-D dataset extendable along
// its first axis). Errors become eisim::file_error with the path named.
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/error.hpp"

namespace eisim::h5 {

class handle {
public:
    handle() = default;
    handle(hid_t id, herr_t (*closer)(hid_t)): id_(id), closer_(closer) {}
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    handle(handle&& o) noexcept: id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
    handle& operator=(handle&& o) noexcept {
        if (this != &o) { reset(); id_ = o.id_; closer_ = o.closer_; o.id_ = H5I_INVALID_HID; }
        return *this;
    }
    ~handle() { reset(); }
    void reset() { if (id_ >= 0 && closer_) closer_(id_); id_ = H5I_INVALID_HID; }
    hid_t id() const { return id_; }
    operator hid_t() const { return id_; }
    bool valid() const { return id_ >= 0; }

private:
    hid_t id_ = H5I_INVALID_HID;
    herr_t (*closer_)(hid_t) = nullptr;
};

/// Silence HDF5's own error stack printing for this thread (we report errors ourselves).
void quiet();

/// A new HDF5 file (SWMR-capable with `swmr`); an existing file is truncated, or, with `exclusive`,
/// refused (nothing at `path` is followed or replaced).
handle create_file(const std::string& path, bool swmr = false, bool exclusive = false);
handle open_file(const std::string& path, bool write = false);
bool is_hdf5(const std::string& path);
/// Open a run file for writing again in SWMR mode (resuming a stopped or killed run); the
/// "still open for writing" mark a killed writer leaves behind is cleared first.
handle open_file_for_resume(const std::string& path);
void flush(hid_t file);
/// Flush, then ask the operating system to put the file's data on disk (fsync of its descriptor).
void sync(hid_t file);

handle create_group(hid_t loc, const std::string& name);
handle open_group(hid_t loc, const std::string& name);
bool exists(hid_t loc, const std::string& path);
/// The names of the groups directly under `loc`, in name order.
std::vector<std::string> subgroups(hid_t loc);

// Attributes
void write_attr(hid_t obj, const std::string& name, const std::string& value);
void write_attr(hid_t obj, const std::string& name, double value);
void write_attr(hid_t obj, const std::string& name, std::int64_t value);
void write_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& value);
// Unsigned and 8-bit attributes, as SONATA needs them (magic, version, sorted).
void write_attr(hid_t obj, const std::string& name, std::uint32_t value);
void write_attr(hid_t obj, const std::string& name, const std::vector<std::uint32_t>& value);
void write_attr(hid_t obj, const std::string& name, std::int8_t value);
/// A variable-length UTF-8 string attribute, as h5py writes a str (some SONATA readers expect it).
void write_attr_vlen(hid_t obj, const std::string& name, const std::string& value);
/// Write a new value into an existing integer attribute (what SWMR mode allows: no attribute is
/// created or deleted once it has started).
void update_attr(hid_t obj, const std::string& name, std::int64_t value);
std::string read_attr_string(hid_t obj, const std::string& name);
double read_attr_double(hid_t obj, const std::string& name);
std::int64_t read_attr_int(hid_t obj, const std::string& name);
bool has_attr(hid_t obj, const std::string& name);
/// An integer attribute of any size (scalar: one value), converted to int64.
std::vector<std::int64_t> read_attr_ints(hid_t obj, const std::string& name);

// Datasets: `dims` is the shape (row-major, as h5py shows it).
void write(hid_t loc, const std::string& name, const double* data, const std::vector<hsize_t>& dims);
void write(hid_t loc, const std::string& name, const std::int64_t* data, const std::vector<hsize_t>& dims);
void write(hid_t loc, const std::string& name, const std::int8_t* data, const std::vector<hsize_t>& dims);
void write(hid_t loc, const std::string& name, const std::vector<double>& v);
void write(hid_t loc, const std::string& name, const std::vector<std::int64_t>& v);
void write(hid_t loc, const std::string& name, const std::vector<std::int8_t>& v);
/// 32-bit indices in memory, stored as 64-bit integers (the run file's index type).
void write(hid_t loc, const std::string& name, const std::vector<std::int32_t>& v);
void write(hid_t loc, const std::string& name, const std::uint64_t* data, const std::vector<hsize_t>& dims);
void write(hid_t loc, const std::string& name, const std::uint32_t* data, const std::vector<hsize_t>& dims);
void write(hid_t loc, const std::string& name, const std::vector<std::uint64_t>& v);
void write(hid_t loc, const std::string& name, const std::vector<std::uint32_t>& v);
/// A 1-D dataset of variable-length UTF-8 strings (h5py reads it as str objects).
void write(hid_t loc, const std::string& name, const std::vector<std::string>& v);
/// A 1-D dataset of fixed-length UTF-8 strings, as wide as the longest (null-padded). Reading it
/// needs no global heap: HDF5 1.10 reads a variable-length string through the file's global heap
/// without checking the lengths there, so a damaged heap crashes the reader (seen in the fault
/// campaign: analyze died of SIGSEGV in H5HG_read); a damaged fixed-length one reads as text.
void write_fixed_strings(hid_t loc, const std::string& name, const std::vector<std::string>& v);
/// Variable-length strings (run files of format 6 and before 4, h5py's, SONATA's) are read in a child process:
/// HDF5 1.10 reads a damaged global heap out of bounds, and the child's crash becomes a file_error
/// naming the damage (exit 2) instead of the command's.
/// The strings of a dataset (read_attr_string: of an attribute), each made UTF-8 by
/// utf8_or_escaped, so that a message quoting a damaged one is still text.
std::vector<std::string> read_strings(hid_t loc, const std::string& name);
/// The strings of an open file, read at once: every string attribute of every object and every
/// string dataset, as the file was when this was made. Its answers are read_attr_string's and
/// read_strings', but a file with many variable-length strings (a run file of format 6 holds about
/// 25) costs one child process instead of one per string: each fork makes the reader's memory
/// copy-on-write, and the page faults that follow cost more than the reads (eisim observe spent 40 %
/// of its time in them). Where the strings cannot be read at once (a damaged heap anywhere in the
/// file), each is read on its own when asked for, so that the damage named is the string's own and
/// damage elsewhere costs nothing.
class file_strings {
public:
    /// None read yet: each is read when asked for.
    file_strings() = default;
    explicit file_strings(hid_t file);
    /// read_attr_string(obj, name)
    std::string attr(hid_t obj, const std::string& name) const;
    /// read_strings(loc, name)
    std::vector<std::string> dataset(hid_t loc, const std::string& name) const;

private:
    // Keyed by the object's path ("/", "/network/recurrent"), then "@" and the attribute's name for
    // an attribute.
    std::map<std::string, std::vector<std::string>> strings_;
};
/// `s` with every byte that does not belong to a well-formed UTF-8 sequence (RFC 3629) written as
/// the four characters \xNN; well-formed text is returned unchanged.
std::string utf8_or_escaped(const std::string& s);
/// Whether dataset `name` holds strings (fixed or variable length).
bool holds_strings(hid_t loc, const std::string& name);
/// Open an existing dataset (e.g. to put an attribute on it).
handle open_dataset(hid_t loc, const std::string& name);
/// A second name `name` for the existing object `target` (both relative to `loc`): an HDF5 hard
/// link, so both names open the same object, stored once (for readers that spell a name differently).
void hard_link(hid_t loc, const std::string& target, const std::string& name);

std::vector<hsize_t> shape(hid_t loc, const std::string& name);
std::vector<double> read_double(hid_t loc, const std::string& name);
std::vector<std::int64_t> read_int(hid_t loc, const std::string& name);
/// Rows [row0, row0+nrows) of a 2-D dataset of doubles, row-major (of a 1-D one: its values
/// [row0, row0+nrows)).
std::vector<double> read_rows(hid_t loc, const std::string& name, hsize_t row0, hsize_t nrows);

/// A dataset of doubles of the given shape, to be written later with `overwrite` (its data is
/// fixed in size, so it can be created before SWMR writing starts).
void create_double(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims);
/// Write the whole of an existing dataset of doubles.
void overwrite(hid_t loc, const std::string& name, const double* data);
/// Values [first, first + n) of a 1-D dataset, written by fill(first, n, out) into out[0..n).
using fill_block = std::function<void(hsize_t first, hsize_t n, double* out)>;
/// Write the whole of an existing 1-D dataset of doubles in blocks of `block_values`, through a
/// buffer of that size (a large dataset is never copied whole into memory).
void overwrite(hid_t loc, const std::string& name, const fill_block& fill);
/// A new 1-D dataset of n doubles, written the same way (no fill value is written before them).
void write(hid_t loc, const std::string& name, hsize_t n, const fill_block& fill);
/// The values per block of the blockwise writes, and the columns per chunk of an appended row:
/// 2^16 (half a MB of doubles, a chunk HDF5's default cache holds).
constexpr hsize_t block_values = hsize_t(1) << 16;
/// Switch a file created with create_file(path, true) to single-writer/multiple-reader mode:
/// readers (h5py with swmr=True, eisim analyze) may open it while it is written. No new objects
/// can be created afterwards.
void start_swmr(hid_t file);

/// An empty 1-D dataset of T (double, int64 or uint64) extendable without limit (chunks of
/// block_values), so that it can be created before SWMR writing starts and filled later with `write_extendable`.
template <typename T> void create_extendable(hid_t loc, const std::string& name);
/// Replace the contents of an extendable 1-D dataset with n values (rewriting it gives the same file).
template <typename T> void write_extendable(hid_t loc, const std::string& name, const T* data, hsize_t n);

/// A 2-D dataset [rows × cols] of doubles (or float32 on disk) extendable along rows, in chunks
/// of one row by at most block_values columns; `append` adds one row. Or, made by `series`, a 1-D
/// dataset of one value per row.
class row_appender {
public:
    row_appender() = default;
    row_appender(hid_t loc, const std::string& name, hsize_t cols, bool float32 = false, int compression = 0);
    /// A 1-D series extendable without limit: float64, or int64 where it counts (`append` takes
    /// doubles holding whole numbers then), in chunks of series_chunk values.
    static row_appender series(hid_t loc, const std::string& name, bool integer = false);
    /// Reopen an existing extendable dataset, 2-D or a 1-D series (to resume writing).
    static row_appender open(hid_t loc, const std::string& name);
    void append(const double* row);
    /// Append one row written in blocks of columns (one chunk each) through a buffer of one block.
    void append(const fill_block& fill);
    void truncate(hsize_t rows);
    hsize_t rows() const { return rows_; }
    hsize_t cols() const { return cols_; }

    /// 1 for a series, 2 for rows of columns.
    int rank() const { return rank_; }

private:
    handle dset_;
    int rank_ = 2;
    hsize_t rows_ = 0, cols_ = 0, chunk_cols_ = 1;
};
/// The values per chunk of a series: 1024 (8 KiB), so that a series of many steps is a few
/// chunks, not one per value.
constexpr hsize_t series_chunk = 1024;

} // namespace eisim::h5

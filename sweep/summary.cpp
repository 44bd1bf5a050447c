#include "sweep/summary.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "analysis/analyze.hpp"
#include "analysis/figures.hpp"
#include "models/error.hpp"
#include "sweep/text_files.hpp"

#ifndef EISIM_SWEEP_FIGURE_SCRIPT
#define EISIM_SWEEP_FIGURE_SCRIPT "sweep/summary_figure.py"
#endif

namespace eisim::sweep {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Statistics (no files)

bool is_seed_key(const std::string& key) {
    const auto dot = key.rfind('.');
    const std::string last = dot == std::string::npos? key: key.substr(dot + 1);
    return last.find("seed") != std::string::npos;
}

mean_sd mean_and_sd(const std::vector<double>& x) {
    mean_sd r;
    double sum = 0;
    for (double v: x)
        if (std::isfinite(v)) sum += v, ++r.n;
    if (r.n == 0) return r;
    r.mean = sum/static_cast<double>(r.n);
    if (r.n < 2) return r;
    // Two passes (deviations from the mean), not Σx² − n x̄², which cancels when sd ≪ |mean|.
    double ss = 0;
    for (double v: x)
        if (std::isfinite(v)) ss += (v - r.mean)*(v - r.mean);
    r.sd = std::sqrt(ss/static_cast<double>(r.n - 1));
    return r;
}

namespace {

void count_status(status_counts& c, const std::string& status) {
    ++c.runs;
    if (status == "done") ++c.done;
    else if (status == "diverged") ++c.diverged;
    else if (status == "failed") ++c.failed;
    else if (status == "pending") ++c.pending;
    else if (status == "running") ++c.running;
}

/// The outcome of the runs `members` (indices into runs): counts by status, and mean/sd over
/// the done ones only (a diverged run's last loss is not an outcome of learning).
void fill_outcome(outcome_row& row, const std::vector<manifest_run>& runs, const std::vector<std::size_t>& members) {
    std::vector<double> loss, accuracy;
    for (auto k: members) {
        const auto& r = runs[k];
        row.ids.push_back(r.id);
        count_status(row.counts, r.status);
        if (r.status != "done") continue;
        loss.push_back(r.final_loss);
        accuracy.push_back(r.final_accuracy);
    }
    row.final_loss = mean_and_sd(loss);
    row.final_accuracy = mean_and_sd(accuracy);
}

// ---------------------------------------------------------------------------------------------
// The manifest (CSV, RFC 4180: fields may be quoted, "" is a quote inside quotes)

struct csv_record {
    long line = 0; // where the record starts
    std::vector<std::string> fields;
};

/// "<file>, line <n>": the start of every message about the manifest's content.
std::string where(const std::string& path, long line) { return path + ", line " + std::to_string(line); }

std::vector<csv_record> parse_csv(const std::string& text, const std::string& path) {
    std::vector<csv_record> out;
    std::size_t i = 0;
    long line = 1;
    const std::size_t n = text.size();
    while (i < n) {
        csv_record rec;
        rec.line = line;
        bool blank = true; // a line with nothing on it is no record (e.g. a trailing newline)
        for (;;) {
            std::string field;
            if (i < n && text[i] == '"') {
                blank = false;
                ++i;
                for (;;) {
                    if (i >= n) throw user_error(where(path, rec.line) + ": a quoted field is not closed");
                    if (text[i] == '"') {
                        if (i + 1 < n && text[i + 1] == '"') field += '"', i += 2;
                        else { ++i; break; }
                    } else {
                        if (text[i] == '\n') ++line;
                        field += text[i++];
                    }
                }
                if (i < n && text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
                if (i < n && text[i] != ',' && text[i] != '\n')
                    throw user_error(where(path, line) + ": text after the closing quote of a field");
            } else {
                while (i < n && text[i] != ',' && text[i] != '\n') field += text[i++];
                if (!field.empty() && field.back() == '\r' && (i >= n || text[i] == '\n')) field.pop_back();
                if (!field.empty()) blank = false;
            }
            rec.fields.push_back(std::move(field));
            if (i < n && text[i] == ',') {
                blank = false;
                ++i;
                continue;
            }
            break;
        }
        if (i < n && text[i] == '\n') ++i, ++line;
        if (!blank) out.push_back(std::move(rec));
    }
    return out;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

double parse_number(const std::string& cell, const std::string& column, const std::string& path, long line) {
    const std::string s = trim(cell);
    if (s.empty()) return no_number;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size())
        throw user_error(where(path, line) + ": column '" + column + "' holds '" + cell + "', not a number");
    return v;
}

std::optional<long> parse_integer(const std::string& cell, const std::string& column, const std::string& path, long line) {
    const std::string s = trim(cell);
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (end != s.c_str() + s.size() || errno == ERANGE)
        throw user_error(where(path, line) + ": column '" + column + "' holds '" + cell + "', not an integer");
    return v;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (std::size_t k = 0; k < v.size(); ++k) out += (k? sep: "") + v[k];
    return out;
}

} // namespace

const std::vector<std::string>& manifest_outcome_columns() {
    static const std::vector<std::string> columns{"status",         "exit_code", "attempts", "seconds", "final_loss",
                                                  "final_accuracy", "host",      "rank"};
    return columns;
}

sweep_manifest read_manifest(const std::string& path) {
    const auto text = read_text(path);
    if (!text) throw user_error("cannot read the sweep manifest '" + path + "' (is this a sweep's output directory?)");
    const auto records = parse_csv(*text, path);
    if (records.empty()) throw user_error(where(path, 1) + ": the manifest is empty (no header line)");

    const auto& outcome = manifest_outcome_columns();
    const auto& header = records.front().fields;
    const std::string expected = "id, the swept keys, then " + join(outcome, ", ");
    std::vector<std::string> head;
    for (auto& h: header) head.push_back(trim(h));
    if (head.empty() || head.front() != "id")
        throw user_error(where(path, records.front().line) + ": the header must start with 'id' (" + expected + "), it starts with '" +
                         head.front() + "'");
    for (auto& c: outcome)
        if (std::find(head.begin(), head.end(), c) == head.end())
            throw user_error(where(path, records.front().line) + ": the header has no '" + c + "' column (" + expected + ")");
    if (head.size() < 1 + outcome.size() || !std::equal(outcome.begin(), outcome.end(), head.end() - static_cast<long>(outcome.size())))
        throw user_error(where(path, records.front().line) + ": the header must end with " + join(outcome, ",") + " (" + expected +
                         "), it is " + join(head, ","));

    sweep_manifest m;
    m.path = path;
    m.swept_keys.assign(head.begin() + 1, head.end() - static_cast<long>(outcome.size()));
    for (std::size_t k = 0; k < m.swept_keys.size(); ++k) {
        const auto& key = m.swept_keys[k];
        if (key.empty()) throw user_error(where(path, records.front().line) + ": swept key " + std::to_string(k + 1) + " has no name");
        if (std::find(outcome.begin(), outcome.end(), key) != outcome.end() || key == "id" ||
            std::count(m.swept_keys.begin(), m.swept_keys.end(), key) > 1)
            throw user_error(where(path, records.front().line) + ": the column '" + key + "' appears twice");
    }

    const std::size_t keys = m.swept_keys.size();
    std::map<std::string, long> first_line; // id → its row, to refuse repeats
    for (std::size_t r = 1; r < records.size(); ++r) {
        const auto& rec = records[r];
        const auto& f = rec.fields;
        if (f.size() != head.size())
            throw user_error(where(path, rec.line) + ": " + std::to_string(f.size()) + " fields, but the header has " +
                             std::to_string(head.size()));
        manifest_run run;
        run.line = rec.line;
        run.id = trim(f[0]);
        // The id names the run file DIR/runs/<id>.h5, so it must be a plain file name.
        if (run.id.empty() || run.id.find('/') != std::string::npos || run.id == "." || run.id == "..")
            throw user_error(where(path, rec.line) + ": '" + f[0] + "' is not a run id");
        if (auto [it, fresh] = first_line.emplace(run.id, rec.line); !fresh)
            throw user_error(where(path, rec.line) + ": the run id " + run.id + " appears twice (also on line " +
                             std::to_string(it->second) + ")");
        for (std::size_t k = 0; k < keys; ++k) run.values.push_back(trim(f[1 + k]));
        const auto cell = [&](std::size_t c) -> const std::string& { return f[1 + keys + c]; };
        run.status = trim(cell(0));
        if (run.status != "pending" && run.status != "running" && run.status != "done" && run.status != "diverged" &&
            run.status != "failed")
            throw user_error(where(path, rec.line) + ": status '" + run.status +
                             "' is none of pending, running, done, diverged, failed");
        run.exit_code = parse_integer(cell(1), outcome[1], path, rec.line);
        run.attempts = parse_integer(cell(2), outcome[2], path, rec.line);
        run.seconds = parse_number(cell(3), outcome[3], path, rec.line);
        run.final_loss = parse_number(cell(4), outcome[4], path, rec.line);
        run.final_accuracy = parse_number(cell(5), outcome[5], path, rec.line);
        run.host = trim(cell(6));
        run.rank = parse_integer(cell(7), outcome[7], path, rec.line);
        m.runs.push_back(std::move(run));
    }
    return m;
}

// ---------------------------------------------------------------------------------------------
// The geometry test on the run files

namespace {

/// The trained geometry under the name of the candidate that matches it.
std::string candidate_name(const std::string& geometry, double p) {
    if (geometry == "eg") return analysis::eg_geometry().name;
    if (geometry == "euclidean") return analysis::pnorm_geometry(2.0).name;
    if (geometry == "pnorm" && p > 1) return analysis::pnorm_geometry(p).name;
    return geometry.empty()? "unknown": geometry;
}

std::size_t label_index(std::vector<std::string>& labels, const std::string& label) {
    const auto it = std::find(labels.begin(), labels.end(), label);
    if (it != labels.end()) return static_cast<std::size_t>(it - labels.begin());
    labels.push_back(label);
    return labels.size() - 1;
}

identification_table identify(const std::string& dir, const std::vector<manifest_run>& runs) {
    identification_table t;
    for (const auto& run: runs) {
        if (run.status != "done") continue;
        const std::string path = (fs::path(dir)/"runs"/(run.id + ".h5")).string();
        try {
            if (!fs::exists(path)) throw user_error("no run file " + path);
            const auto report = analysis::analyze(analysis::run_file(path), analysis::analysis_options{});
            const auto* p = analysis::representative_projection(report);
            if (!p) throw user_error(path + " has no plastic projection");
            const auto& g = p->block("all").geometry;
            if (g.best.empty())
                throw user_error(path + ", projection " + p->name + ": no candidate has a finite ΔCDF (did the weights change?)");
            identified_run r;
            r.id = run.id;
            r.values = run.values;
            r.trained_geometry = report.trained_geometry;
            r.trained = candidate_name(report.trained_geometry, report.trained_p);
            r.identified = g.best;
            r.correct = r.identified == r.trained;
            r.trained_consistent = std::find(g.consistent.begin(), g.consistent.end(), r.trained) != g.consistent.end();
            r.projection = p->name;
            r.n_synapses = g.n;
            r.floor = g.floor;
            for (const auto& c: g.candidates) {
                if (c.name == g.best) r.best_dcdf = c.dcdf;
                if (c.name == r.trained) r.trained_dcdf = c.dcdf;
            }
            t.runs.push_back(std::move(r));
        } catch (const user_error& e) {
            t.not_analysable.push_back({run.id, e.what()});
        }
    }
    for (const auto& r: t.runs) {
        const auto ti = label_index(t.trained_labels, r.trained);
        const auto ii = label_index(t.identified_labels, r.identified);
        t.counts.resize(t.trained_labels.size());
        for (auto& row: t.counts) row.resize(t.identified_labels.size(), 0);
        ++t.counts[ti][ii];
        t.correct += r.correct;
        t.trained_consistent += r.trained_consistent;
    }
    return t;
}

} // namespace

namespace {

// The runs 0..n-1 grouped by key_of(k): the distinct keys in order of first appearance, and the
// runs of each.
template <typename KeyOf>
auto group_runs(std::size_t n, KeyOf key_of) {
    using key = decltype(key_of(std::size_t{}));
    std::pair<std::vector<key>, std::vector<std::vector<std::size_t>>> g;
    auto& [keys, members] = g;
    for (std::size_t k = 0; k < n; ++k) {
        const key v = key_of(k);
        const auto it = std::find(keys.begin(), keys.end(), v);
        if (it == keys.end()) {
            keys.push_back(v);
            members.push_back({k});
        } else {
            members[static_cast<std::size_t>(it - keys.begin())].push_back(k);
        }
    }
    return g;
}

} // namespace

sweep_summary summarize_sweep(const std::string& dir, const summary_options& options) {
    const auto m = read_manifest((fs::path(dir)/"manifest.csv").string());
    sweep_summary s;
    s.dir = dir;
    s.swept_keys = m.swept_keys;
    s.runs = m.runs;
    std::vector<std::size_t> condition_columns;
    for (std::size_t k = 0; k < s.swept_keys.size(); ++k) {
        if (is_seed_key(s.swept_keys[k])) {
            s.seed_keys.push_back(s.swept_keys[k]);
        } else {
            s.condition_keys.push_back(s.swept_keys[k]);
            condition_columns.push_back(k);
        }
    }

    std::vector<std::size_t> every(s.runs.size());
    for (std::size_t k = 0; k < every.size(); ++k) every[k] = k;
    s.all.group = "all";
    fill_outcome(s.all, s.runs, every);

    // Conditions: the runs with the same values of every condition key; their seeds are replicates.
    const auto [condition_values, members] = group_runs(s.runs.size(), [&](std::size_t k) {
        std::vector<std::string> values;
        for (auto c: condition_columns) values.push_back(s.runs[k].values[c]);
        return values;
    });
    for (std::size_t c = 0; c < condition_values.size(); ++c) {
        outcome_row row;
        row.group = "condition";
        for (std::size_t j = 0; j < condition_columns.size(); ++j) row.fixed.emplace_back(s.condition_keys[j], condition_values[c][j]);
        fill_outcome(row, s.runs, members[c]);
        s.conditions.push_back(std::move(row));
    }

    // Marginals: one condition key fixed, every other key (condition or seed) pooled.
    for (std::size_t j = 0; j < condition_columns.size(); ++j) {
        const auto [values, with] = group_runs(s.runs.size(), [&](std::size_t k) { return s.runs[k].values[condition_columns[j]]; });
        for (std::size_t v = 0; v < values.size(); ++v) {
            outcome_row row;
            row.group = "marginal";
            row.fixed.emplace_back(s.condition_keys[j], values[v]);
            fill_outcome(row, s.runs, with[v]);
            s.marginals.push_back(std::move(row));
        }
    }

    if (options.analyze) {
        s.analyzed = true;
        s.identification = identify(dir, s.runs);
    }
    return s;
}

// ---------------------------------------------------------------------------------------------
// The tables for people

namespace {

std::string fmt(double x, const char* format = "%.4g") {
    if (std::isnan(x)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, format, x);
    return buf;
}

std::string describe(const mean_sd& m) {
    if (m.n == 0) return "-";
    std::string out = fmt(m.mean);
    if (m.n >= 2) out += " ± " + fmt(m.sd);
    return out + " (n=" + std::to_string(m.n) + ")";
}

/// Columns padded to their widest cell; the first `left` columns left-aligned, the rest right.
void print_table(std::ostream& os, const std::vector<std::vector<std::string>>& rows, std::size_t left) {
    if (rows.empty()) return;
    std::vector<std::size_t> width(rows.front().size(), 0);
    // Widths in characters, not bytes: "±" and "ΔCDF" are two bytes each in UTF-8.
    const auto length = [](const std::string& s) {
        std::size_t n = 0;
        for (unsigned char c: s) n += (c & 0xC0) != 0x80;
        return n;
    };
    for (auto& r: rows)
        for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], length(r[c]));
    for (auto& r: rows) {
        os << ' ';
        for (std::size_t c = 0; c < r.size(); ++c) {
            const std::string pad(width[c] - length(r[c]), ' ');
            os << ' ' << (c < left? r[c] + pad: pad + r[c]);
        }
        os << '\n';
    }
}

std::vector<std::string> outcome_header() {
    return {"runs", "done", "diverged", "failed", "pending", "running", "final loss", "final accuracy"};
}

std::vector<std::string> outcome_cells(const outcome_row& r) {
    const auto& c = r.counts;
    return {std::to_string(c.runs),    std::to_string(c.done),    std::to_string(c.diverged), std::to_string(c.failed),
            std::to_string(c.pending), std::to_string(c.running), describe(r.final_loss),     describe(r.final_accuracy)};
}

} // namespace

void print_sweep_summary(std::ostream& os, const sweep_summary& s) {
    const auto& c = s.all.counts;
    os << "sweep " << s.dir << ": " << c.runs << " runs (" << c.done << " done, " << c.diverged << " diverged, " << c.failed
       << " failed, " << c.pending << " pending, " << c.running << " running)\n";
    os << "condition keys: " << (s.condition_keys.empty()? "none": join(s.condition_keys, ", "))
       << "; seed keys (averaged over): " << (s.seed_keys.empty()? "none": join(s.seed_keys, ", ")) << "\n";
    os << "final loss and accuracy: mean ± sample sd (n − 1) over the done runs; diverged runs counted, not averaged\n";

    os << "\nper condition\n";
    std::vector<std::vector<std::string>> rows;
    auto header = s.condition_keys;
    if (header.empty()) header.push_back("condition");
    for (auto& h: outcome_header()) header.push_back(h);
    rows.push_back(header);
    for (const auto& r: s.conditions) {
        std::vector<std::string> row;
        for (auto& [key, value]: r.fixed) row.push_back(value);
        if (r.fixed.empty()) row.push_back("all runs");
        for (auto& cell: outcome_cells(r)) row.push_back(cell);
        rows.push_back(row);
    }
    print_table(os, rows, std::max<std::size_t>(1, s.condition_keys.size()));

    if (!s.marginals.empty()) {
        os << "\nper swept value (every other key pooled)\n";
        rows.clear();
        header = {"key", "value"};
        for (auto& h: outcome_header()) header.push_back(h);
        rows.push_back(header);
        for (const auto& r: s.marginals) {
            std::vector<std::string> row{r.fixed.front().first, r.fixed.front().second};
            for (auto& cell: outcome_cells(r)) row.push_back(cell);
            rows.push_back(row);
        }
        print_table(os, rows, 2);
    }

    if (!s.analyzed) return;
    const auto& t = s.identification;
    os << "\ngeometry identified (eisim analyze, per-neuron test) against the geometry trained with: " << t.runs.size()
       << " done runs analysed, " << t.not_analysable.size() << " not analysable\n";
    if (!t.runs.empty()) {
        rows.clear();
        header = {"id"};
        for (auto& k: s.swept_keys) header.push_back(k);
        for (auto h: {"projection", "trained", "identified", "best ΔCDF", "trained ΔCDF", "floor", "correct", "consistent"})
            header.push_back(h);
        rows.push_back(header);
        for (const auto& r: t.runs) {
            std::vector<std::string> row{r.id};
            for (auto& v: r.values) row.push_back(v);
            for (auto cell: {r.projection, r.trained, r.identified, fmt(r.best_dcdf), fmt(r.trained_dcdf), fmt(r.floor),
                             std::string(r.correct? "yes": "no"), std::string(r.trained_consistent? "yes": "no")})
                row.push_back(cell);
            rows.push_back(row);
        }
        print_table(os, rows, 1 + s.swept_keys.size() + 3);

        os << "\nconfusion (rows: trained, columns: identified)\n";
        rows.clear();
        header = {"trained"};
        for (auto& l: t.identified_labels) header.push_back(l);
        header.push_back("total");
        rows.push_back(header);
        for (std::size_t i = 0; i < t.trained_labels.size(); ++i) {
            std::vector<std::string> row{t.trained_labels[i]};
            long total = 0;
            for (auto n: t.counts[i]) row.push_back(std::to_string(n)), total += n;
            row.push_back(std::to_string(total));
            rows.push_back(row);
        }
        print_table(os, rows, 1);
        os << "correct: " << t.correct << " of " << t.runs.size() << "; trained geometry within the noise floor of the best: "
           << t.trained_consistent << " of " << t.runs.size() << "\n";
    }
    for (const auto& u: t.not_analysable) os << "not analysable: " << u.id << ": " << u.reason << "\n";
}

// ---------------------------------------------------------------------------------------------
// The files

namespace {

std::string csv_number(double x) {
    if (std::isnan(x)) return "";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

std::string csv_line(const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t k = 0; k < cells.size(); ++k) out += (k? ",": "") + csv_field(cells[k]);
    return out + "\n";
}

std::string summary_csv(const sweep_summary& s) {
    std::vector<std::string> header{"group", "key"};
    for (auto& k: s.condition_keys) header.push_back(k);
    for (auto h: {"runs", "done", "diverged", "failed", "pending", "running", "final_loss_n", "final_loss_mean", "final_loss_sd",
                  "final_accuracy_n", "final_accuracy_mean", "final_accuracy_sd"})
        header.push_back(h);
    std::string out = csv_line(header);
    const auto row = [&](const outcome_row& r) {
        std::vector<std::string> cells{r.group, r.group == "marginal"? r.fixed.front().first: ""};
        for (auto& k: s.condition_keys) {
            std::string value;
            for (auto& [key, v]: r.fixed)
                if (key == k) value = v;
            cells.push_back(value);
        }
        const auto& c = r.counts;
        for (long n: {c.runs, c.done, c.diverged, c.failed, c.pending, c.running}) cells.push_back(std::to_string(n));
        for (const auto* m: {&r.final_loss, &r.final_accuracy}) {
            cells.push_back(std::to_string(m->n));
            cells.push_back(csv_number(m->mean));
            cells.push_back(csv_number(m->sd));
        }
        out += csv_line(cells);
    };
    row(s.all);
    for (auto& r: s.conditions) row(r);
    for (auto& r: s.marginals) row(r);
    return out;
}

std::string identification_csv(const sweep_summary& s) {
    std::vector<std::string> header{"id"};
    for (auto& k: s.swept_keys) header.push_back(k);
    for (auto h: {"analysed", "projection", "trained_geometry", "trained", "identified", "correct", "trained_consistent",
                  "n_synapses", "best_dcdf", "trained_dcdf", "floor", "reason"})
        header.push_back(h);
    std::string out = csv_line(header);
    const auto& t = s.identification;
    // In manifest order, the analysed and the unanalysable runs together.
    for (const auto& run: s.runs) {
        std::vector<std::string> cells{run.id};
        for (auto& v: run.values) cells.push_back(v);
        const auto a = std::find_if(t.runs.begin(), t.runs.end(), [&](auto& r) { return r.id == run.id; });
        const auto u = std::find_if(t.not_analysable.begin(), t.not_analysable.end(), [&](auto& r) { return r.id == run.id; });
        if (a != t.runs.end()) {
            for (auto cell: {std::string("1"), a->projection, a->trained_geometry, a->trained, a->identified,
                             std::string(a->correct? "1": "0"), std::string(a->trained_consistent? "1": "0"),
                             std::to_string(a->n_synapses), csv_number(a->best_dcdf), csv_number(a->trained_dcdf),
                             csv_number(a->floor), std::string()})
                cells.push_back(cell);
        } else if (u != t.not_analysable.end()) {
            cells.push_back("0");
            for (int k = 0; k < 10; ++k) cells.emplace_back();
            cells.push_back(u->reason);
        } else {
            continue; // not done: never analysed
        }
        out += csv_line(cells);
    }
    return out;
}

} // namespace

std::vector<std::string> write_sweep_summary(const std::string& dir, const sweep_summary& s) {
    std::vector<std::string> written;
    const std::string summary = (fs::path(dir)/"summary.csv").string();
    write_atomically(summary, summary_csv(s));
    written.push_back(summary);
    if (s.analyzed) {
        const std::string identification = (fs::path(dir)/"identification.csv").string();
        write_atomically(identification, identification_csv(s));
        written.push_back(identification);
    }
    return written;
}

// ---------------------------------------------------------------------------------------------
// The figure: sweep/summary_figure.py, run as analysis/figures.cpp runs its script

std::string sweep_figure_script() {
    const char* v = std::getenv("EISIM_SWEEP_FIGURE_SCRIPT");
    return v && *v? v: EISIM_SWEEP_FIGURE_SCRIPT;
}

void draw_sweep_figure(const std::string& dir) {
    const std::string script = sweep_figure_script();
    if (!fs::is_regular_file(fs::path(dir)/"summary.csv"))
        throw user_error("sweep figure: '" + (fs::path(dir)/"summary.csv").string() + "' is missing (write the summary first)");
    if (!fs::is_regular_file(script))
        throw user_error("sweep figure: the figure script '" + script + "' is missing (set EISIM_SWEEP_FIGURE_SCRIPT)");

    analysis::run_figure_script({"sweep figure", "matplotlib and numpy", "python3-matplotlib python3-numpy", "the summary tables were written"},
                                script, {dir});
}

} // namespace eisim::sweep

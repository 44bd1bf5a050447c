#pragma once
// One small registry pattern for every component chosen by name (transfer functions, geometries,
// credit rules, tasks, steppers, inputs, schedules), as Arbor's catalogue: lookup by name; an
// unknown name is an error listing the known ones. Entries whose value has a `doc` member carry
// their one-line documentation; listing() joins it for the config's comments.
#include <string>
#include <utility>
#include <vector>

#include "models/error.hpp"

namespace eisim {

template <typename T>
class registry {
public:
    registry(std::string what, std::vector<std::pair<std::string, T>> entries):
        what_(std::move(what)), entries_(std::move(entries)) {}

    const T& get(const std::string& name) const {
        for (auto& [n, v]: entries_) if (n == name) return v;
        throw user_error("unknown " + what_ + " '" + name + "'; known: " + known());
    }
    bool contains(const std::string& name) const {
        for (auto& e: entries_) if (e.first == name) return true;
        return false;
    }
    /// What the entries are ("geometry", "credit rule", ...), for messages.
    const std::string& what() const { return what_; }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (auto& e: entries_) out.push_back(e.first);
        return out;
    }
    std::string known() const {
        std::string s;
        for (auto& e: entries_) s += (s.empty()? "": ", ") + e.first;
        return s;
    }
    /// "name (doc), name (doc), ...", for entries that document themselves.
    std::string listing() const {
        std::string s;
        for (auto& [n, v]: entries_) s += (s.empty()? "": ", ") + n + " (" + v.doc + ")";
        return s;
    }

private:
    std::string what_;
    std::vector<std::pair<std::string, T>> entries_;
};

} // namespace eisim

// The eisim command line. Every user error exits with code 2 and a message naming the problem;
// a diverging run exits with 3.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "models/error.hpp"
#include "sim/config.hpp"
#include "sim/experiment.hpp"
#include "sim/recorder.hpp"
#include "sim/signals.hpp"

namespace {

using namespace eisim;

struct config_args {
    std::string file;
    std::vector<std::string> sets;
    void add_to(CLI::App* app) {
        app->add_option("config", file, "TOML configuration (built-in defaults when omitted)");
        app->add_option("--set", sets, "override a key: section.key=value (repeatable)");
    }
    config resolve() const {
        config c = file.empty()? default_config(): load_config(file);
        for (auto& s: sets) apply_override(c, s);
        return c;
    }
};

void print_summary(const run_summary& s) {
    std::printf("loss: initial %.6g, final %.6g (%.1f%% of initial) after %ld steps in %.1f s\n", s.initial_loss,
                s.final_loss, s.initial_loss > 0? 100.0*s.final_loss/s.initial_loss: 0.0, s.steps, s.seconds);
    std::printf("%-10s %8s %22s %22s %6s %8s\n", "projection", "synapses", "ln|w| mean/sd before", "ln|w| mean/sd after",
                "held", "signflip");
    for (std::size_t i = 0; i < s.final.size(); ++i) {
        const auto& a = s.initial[i];
        const auto& b = s.final[i];
        std::printf("%-10s %8ld %12.3f / %6.3f  %12.3f / %6.3f  %6ld %8ld\n", b.name.c_str(), b.n, a.mean_ln, a.sd_ln,
                    b.mean_ln, b.sd_ln, b.held_at_bound, b.sign_changes);
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"eisim: learning in Dale's-law E/I rate networks"};
    app.set_version_flag("--version", std::string("eisim ") + software_version + " (" + git_revision + ")");
    app.require_subcommand(1);

    run_options opts;
    config_args sim_args, run_args, cfg_args;

    auto* sim = app.add_subcommand("simulate", "simulate a batch of trials of the network (no learning)");
    sim_args.add_to(sim);
    sim->add_option("--out", opts.out, "run file to write (HDF5)")->required();
    sim->add_flag("--overwrite", opts.overwrite, "replace an existing output file");

    auto* run = app.add_subcommand("run", "train the network and record every synaptic weight over learning");
    run_args.add_to(run);
    std::string resume_path;
    run->add_option("--out", opts.out, "run file to write (HDF5)");
    run->add_option("--resume", resume_path, "continue a stopped run file (its own config is used)");
    run->add_flag("--overwrite", opts.overwrite, "replace an existing output file");
    run->add_flag("--quiet,-q", opts.quiet, "no progress output");

    auto* cfg = app.add_subcommand("config", "print the fully resolved configuration (TOML with a comment per key)");
    cfg_args.add_to(cfg);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "eisim: error: " << e.what() << "\n(run 'eisim --help' for usage)\n";
        return 2;
    }

    try {
        if (*sim) {
            simulate(sim_args.resolve(), opts);
            std::printf("wrote %s\n", opts.out.c_str());
        } else if (*run) {
            if (!resume_path.empty()) {
                if (!opts.out.empty() || !run_args.file.empty() || !run_args.sets.empty())
                    throw user_error("--resume takes the run file alone (its config is stored in it)");
                opts.out = resume_path;
                opts.resume = true;
            } else if (opts.out.empty()) {
                throw user_error("run needs --out FILE.h5 (or --resume FILE.h5)");
            }
            const auto summary = learn(opts.resume? config_of_run(opts.out): run_args.resolve(), opts);
            print_summary(summary);
            std::printf("wrote %s\n", opts.out.c_str());
        } else if (*cfg) {
            std::cout << to_toml(cfg_args.resolve());
        }
    } catch (const interrupted& e) {
        std::cerr << "eisim: stopped by " << e.what() << "\n";
        return e.exit_code();
    } catch (const divergence_error& e) {
        std::cerr << "eisim: diverged: " << e.what() << "\n";
        return 3;
    } catch (const user_error& e) {
        std::cerr << "eisim: error: " << e.what() << "\n";
        return 2;
    } catch (const std::bad_alloc&) {
        std::cerr << "eisim: error: out of memory; reduce the network size, batch or duration\n";
        return 2;
    }
    return 0;
}

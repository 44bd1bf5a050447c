// The MPI engine (engine.hpp): rank 0 hands out the runs one at a time to whichever rank asks,
// itself included, so that long and short runs balance; every rank writes the status files of the
// runs it runs. Only nonblocking MPI calls are waited on (MPI_Test, MPI_Iprobe, with naps between
// looks), so that waiting ranks leave the cores to the runs.
//
// The messages (two ints or one):
//   worker -> 0, tag `request`: {point it ran or -1, 1 if it stops now}; it asks for the next one
//                               unless it stops
//   0 -> worker, tag `assign`:  the next point, or -1: no more (the worker ends)
#include "sweep/launcher.hpp"

#include <cstdio>

#include "models/error.hpp"
#include "sim/signals.hpp"

#ifdef EISIM_HAVE_MPI
#include <mpi.h>
#endif

namespace eisim::sweep {

#ifndef EISIM_HAVE_MPI

bool have_mpi() { return false; }
std::optional<int> run_sweep_mpi(const sweep_plan&, const sweep_dir&, const sweep_run_options&) { return std::nullopt; }

#else

bool have_mpi() { return true; }

namespace {

constexpr int tag_request = 1, tag_assign = 2;

// Wait for a nonblocking request without spinning.
void wait_for(MPI_Request& r) {
    for (int done = 0;;) {
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        if (done) return;
        nap();
    }
}

// Run point k on this rank to its end (forwarding a stop to it); whether a stop came.
bool run_here(launcher& l, std::size_t k) {
    bool stopping = false;
    std::vector<active_run> runs;
    if (auto r = l.start(k)) runs.push_back(std::move(*r));
    while (!runs.empty()) {
        if (stop_signals::received()) {
            stopping = true;
            l.stop(runs);
        }
        if (!l.reap(runs, stopping)) nap();
    }
    return stopping || stop_signals::received();
}

int worker(launcher& l) {
    bool stopping = false;
    int ran = -1;
    for (;;) {
        stopping = stopping || stop_signals::received() != 0;
        int request[2] = {ran, stopping? 1: 0};
        MPI_Send(request, 2, MPI_INT, 0, tag_request, MPI_COMM_WORLD);
        if (stopping) break;
        int next = -1;
        MPI_Request r;
        MPI_Irecv(&next, 1, MPI_INT, 0, tag_assign, MPI_COMM_WORLD, &r);
        wait_for(r);
        if (next < 0) break;
        if (stop_signals::received()) { // asked, then stopped: hand it back unrun
            int back[2] = {-1, 1};
            MPI_Send(back, 2, MPI_INT, 0, tag_request, MPI_COMM_WORLD);
            stopping = true;
            break;
        }
        stopping = run_here(l, static_cast<std::size_t>(next));
        ran = next;
    }
    return stopping? 128 + stop_signals::received(): 0;
}

int coordinator(launcher& l, int ranks, const std::vector<std::size_t>& todo) {
    std::size_t next = 0;
    int working = ranks - 1; // workers that have not ended
    bool stopping = false;
    std::vector<active_run> mine; // rank 0's own run
    while (working > 0 || !mine.empty() || (!stopping && next < todo.size())) {
        bool busy = false;
        if (!stopping && stop_signals::received()) {
            stopping = true;
            l.stop(mine);
        }
        if (mine.empty() && !stopping && next < todo.size()) {
            if (auto r = l.start(todo[next++])) mine.push_back(std::move(*r));
            busy = true;
        }
        if (l.reap(mine, stopping)) busy = true;
        for (int flag = 1; flag;) { // every request waiting
            MPI_Status st;
            MPI_Iprobe(MPI_ANY_SOURCE, tag_request, MPI_COMM_WORLD, &flag, &st);
            if (!flag) break;
            busy = true;
            int request[2];
            MPI_Recv(request, 2, MPI_INT, st.MPI_SOURCE, tag_request, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (request[1]) { // it stops: no reply
                --working;
                continue;
            }
            const int give = !stopping && next < todo.size()? static_cast<int>(todo[next++]): -1;
            MPI_Send(&give, 1, MPI_INT, st.MPI_SOURCE, tag_assign, MPI_COMM_WORLD);
            if (give < 0) --working;
        }
        if (!busy) nap();
    }
    return stopping? 128 + stop_signals::received(): 0;
}

} // namespace

std::optional<int> run_sweep_mpi(const sweep_plan& plan, const sweep_dir& dir, const sweep_run_options& o) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) MPI_Init(nullptr, nullptr);
    int rank = 0, ranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    if (ranks < 2) {
        MPI_Finalize();
        return std::nullopt;
    }
    sweep_run_options mine = o;
    mine.jobs = 1;
    const stop_signals signals;
    launcher l(plan, dir, mine, rank);
    std::vector<std::size_t> all(plan.points.size());
    for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
    int code = 0;
    if (rank == 0) {
        const auto todo = l.left(all);
        std::printf("sweep: %zu runs; %zu to run on %d MPI ranks, into %s\n", all.size(), todo.size(), ranks, dir.path().c_str());
        std::fflush(stdout);
        code = coordinator(l, ranks, todo);
    } else {
        code = worker(l);
    }
    // No barrier: a worker's last request comes after its last status file, and rank 0 is here
    // only when every worker has ended (a blocking barrier would also spin while rank 0 runs).
    if (rank == 0) code = l.close(all, code > 128? code - 128: 0);
    MPI_Finalize();
    return code;
}

#endif

} // namespace eisim::sweep

// Cluster runs over MPI. Every rank runs the same command (SPMD); run_all (runner.hpp)
// spreads its runs over the ranks, and rank 0, the root, alone opens the results store,
// stores the results and writes files, standard output and progress. Without MPI in the
// build, or when no MPI launcher (mpirun, srun) started the program, there is one rank and
// everything here reduces to the single-process behaviour.
#pragma once

#include <functional>

namespace syncache::cluster {

// Starts MPI when the build has it and the environment shows an MPI launcher; on ranks
// other than 0, standard output is sent to /dev/null. Call once, first thing in main.
void init(int& argc, char**& argv);
// Ends MPI after every rank has arrived (waiting without spinning). No-op without MPI,
// and after the first call.
void finalize();

/// init in the constructor, finalize in the destructor: the first object of main.
struct Session {
  Session(int& argc, char**& argv) { init(argc, argv); }
  ~Session() { finalize(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

int rank();  // 0 without MPI
int size();  // 1 without MPI
inline bool is_root() {
  return rank() == 0;
}

// Finalizes and exits with `code`. For failures that every rank meets at the same point
// (every rank parses the same options and gets the same run results); a rank alone that
// must stop the job calls abort.
[[noreturn]] void exit(int code);
// Stops every rank of the job (MPI_Abort) with `code`; without MPI, std::exit.
[[noreturn]] void abort(int code);

// Runs `f` on the root only. Every rank then returns, or throws what `f` threw on the
// root: std::invalid_argument stays std::invalid_argument, any other exception becomes a
// std::runtime_error with the same message. Every rank must call it at the same point.
void on_root(const std::function<void()>& f);

// Worker threads per rank for threads = 0: the hardware threads shared by the ranks on
// this node (at least 1); without MPI, all hardware threads.
int default_threads();

}  // namespace syncache::cluster

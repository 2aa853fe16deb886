// The results store: one SQLite 3 file holding every finished run, keyed by
// (experiment, canonical JSON of the parameters, seed). Plots and exports are drawn
// from here, never from memory.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace syncache {

/// A problem of a results store: "results store PATH: what is wrong" (a file that is not
/// a syncache results store, a newer schema, a folder, a read-only file, a stored run of
/// the wrong shape). Python raises it as syncache.ResultsStoreError (an OSError).
class ResultsStoreError : public std::runtime_error {
 public:
  ResultsStoreError(const std::string& path, const std::string& problem);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// The SQLite application_id of a syncache results store ("SYNC"), set when the store
/// creates its schema (and on the first writable open of a store made before the mark).
inline constexpr int kResultsApplicationId = 0x53594E43;

/// The key of one run. Experiments derive `seed` from their master seed and a run key
/// with derive_seed(master, key) (random.hpp), so a run's seed does not depend on how
/// many runs there are or in which order they are scheduled.
struct RunSpec {
  std::string experiment;
  nlohmann::json params;  // an object; stored as canonical_json(params)
  std::uint64_t seed = 0;
};

/// One stored run, as read back for export.
struct Row {
  RunSpec spec;
  nlohmann::json result;
  std::string version;  // program version that computed it
  std::string created;  // UTC, ISO 8601 (e.g. 2024-05-01T12:00:00.000Z)
};

// The program version recorded with each run (the CMake project version).
std::string program_version();

// Sorted keys at every level, no whitespace, doubles in the shortest text that reads
// back to the same double (0.1 -> "0.1"). Integers and doubles stay distinct (1 vs 1.0).
// Throws std::invalid_argument on NaN or infinity, which JSON cannot hold.
std::string canonical_json(const nlohmann::json& params);
std::string canonical_json(const nlohmann::ordered_json& params);

// Writes `text` to `path` so that readers see either the old file or the whole new
// one: write path.tmp.<pid>.<n>, fsync, rename over path, fsync the directory.
// Throws std::runtime_error naming the path; the temporary file is removed on failure.
void write_file_atomic(const std::string& path, const std::string& text);

// Why `path` cannot be written by write_file_atomic (its folder is missing or not
// writable, or the path is a folder), as "'path': reason"; empty when it can. Used to
// refuse an output option before any work is done.
std::string output_path_problem(const std::string& path);

/// Thread-safe (one connection guarded by a mutex). Several processes may share a file
/// (WAL mode, 10 s busy timeout). Every put is a committed transaction with
/// synchronous=FULL: once put returns, the run survives a crash of the process or host.
/// Seeds are stored as the 64-bit two's complement of the unsigned value.
class ResultsStore {
 public:
  // Opens or creates `path` and its schema. Throws ResultsStoreError naming the path
  // and SQLite's message when the file cannot be opened or is not a results store: an
  // SQLite file with another application_id, or without one and with tables other than
  // syncache's, is refused before anything is written to it.
  // `version` is recorded with every put.
  // With read_only, the file must exist and hold a results store; nothing is written to
  // it (exports).
  explicit ResultsStore(const std::string& path, std::string version = program_version(),
                        bool read_only = false);
  ~ResultsStore();
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  const std::string& path() const { return path_; }

  std::optional<nlohmann::json> find(const std::string& experiment, const nlohmann::json& params,
                                     std::uint64_t seed) const;
  std::optional<nlohmann::json> find(const RunSpec& spec) const {
    return find(spec.experiment, spec.params, spec.seed);
  }

  // Insert or replace, committed before returning. The result is stored as JSON text;
  // doubles read back exactly, NaN and infinities (which JSON cannot hold) become null.
  void put(const std::string& experiment, const nlohmann::json& params, std::uint64_t seed,
           const nlohmann::json& result);
  // Insert or replace a batch in one transaction (all or nothing).
  void put_many(const std::vector<std::pair<RunSpec, nlohmann::json>>& runs);

  // All runs of one experiment, ordered by (params text, seed).
  std::vector<Row> rows(const std::string& experiment) const;
  std::size_t count(const std::string& experiment) const;
  std::vector<std::string> experiments() const;

  // SQLite's PRAGMA integrity_check: "ok", or its list of problems.
  std::string integrity_check() const;

 private:
  struct Db;
  std::string path_;
  std::string version_;
  std::unique_ptr<Db> db_;
  mutable std::mutex mutex_;
};

}  // namespace syncache

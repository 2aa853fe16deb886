#include "syncache/io/results.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "syncache/io/text_input.hpp"

namespace syncache {

#ifndef SYNCACHE_VERSION
#define SYNCACHE_VERSION "unknown"
#endif

std::string program_version() {
  return SYNCACHE_VERSION;
}

// ---------------------------------------------------------------- canonical JSON

namespace {

template <class J>
void require_finite(const J& j) {
  if (j.is_number_float()) {
    const double v = j.template get<double>();
    if (!std::isfinite(v))
      throw std::invalid_argument("canonical_json: parameter value " + std::to_string(v) +
                                  " is not finite; JSON holds only finite numbers");
  } else if (j.is_structured()) {
    for (const auto& e : j) require_finite(e);
  }
}

}  // namespace

std::string canonical_json(const nlohmann::json& params) {
  require_finite(params);
  // nlohmann::json keeps object keys in a std::map (sorted bytewise) and prints doubles
  // in the shortest form that parses back to the same value.
  return params.dump();
}

std::string canonical_json(const nlohmann::ordered_json& params) {
  require_finite(params);
  return nlohmann::json::parse(params.dump()).dump();
}

// ---------------------------------------------------------------- atomic file write

void write_file_atomic(const std::string& path, const std::string& text) {
  static std::atomic<unsigned long> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write '" + shown(path, 200) + "': " + what + ": " +
                             std::strerror(err));
  };

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    throw std::runtime_error("cannot write '" + shown(path, 200) + "': " + std::strerror(err));
  }
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail("write", err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail("fsync", err);
  }
  if (::close(fd) != 0) fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename", errno);

  // Make the rename itself durable. Some file systems refuse fsync on directories.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string output_path_problem(const std::string& path) {
  const std::string name = "'" + shown(path, 200) + "'";
  if (path.empty()) return "empty file name";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return name + ": is a directory";
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (::stat(dir.c_str(), &st) != 0)
    return name + ": folder '" + shown(dir, 200) + "': " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return name + ": '" + shown(dir, 200) + "' is not a folder";
  if (::access(dir.c_str(), W_OK) != 0)
    return name + ": folder '" + shown(dir, 200) + "': " + std::strerror(errno);
  return {};
}

// ---------------------------------------------------------------- SQLite store

ResultsStoreError::ResultsStoreError(const std::string& path, const std::string& problem)
    : std::runtime_error("results store " + path + ": " + problem), path_(path) {}

namespace {

constexpr int kSchemaVersion = 1;

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  sqlite3_stmt*& ref() { return s_; }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// Resets a cached statement when a scope using it ends, whatever happens.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return t != nullptr ? std::string(t, static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
                      : std::string();
}

}  // namespace

struct ResultsStore::Db {
  sqlite3* db = nullptr;
  std::string path;
  Stmt find, put, begin, commit, rollback;

  // close_v2 defers the close until the member statements are finalised.
  ~Db() { sqlite3_close_v2(db); }

  [[noreturn]] void fail(const std::string& what) const {
    throw ResultsStoreError(path,
                            what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
  }

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      throw ResultsStoreError(path, msg);
    }
  }

  void prepare(Stmt& st, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st.ref(), nullptr) != SQLITE_OK)
      fail("prepare");
  }

  void step_done(sqlite3_stmt* s, const char* what) {
    Reset r{s};
    if (sqlite3_step(s) != SQLITE_DONE) fail(what);
  }

  void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
    if (sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) !=
        SQLITE_OK)
      fail("bind");
  }

  void bind_key(sqlite3_stmt* s, const std::string& experiment, const std::string& params,
                std::uint64_t seed) {
    bind_text(s, 1, experiment);
    bind_text(s, 2, params);
    if (sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(seed)) != SQLITE_OK) fail("bind");
  }

  int scalar_int(const char* sql) {
    Stmt st;
    if (sqlite3_prepare_v2(db, sql, -1, &st.ref(), nullptr) != SQLITE_OK ||
        sqlite3_step(st.get()) != SQLITE_ROW)
      fail("cannot read");
    return sqlite3_column_int(st.get(), 0);
  }

  // The first column of every row of `sql`, as text.
  std::vector<std::string> column(const char* sql) {
    Stmt st;
    if (sqlite3_prepare_v2(db, sql, -1, &st.ref(), nullptr) != SQLITE_OK) fail("cannot read");
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(column_text(st.get(), 0));
    if (rc != SQLITE_DONE) fail("cannot read");
    return out;
  }

  // Refuses a file that is not a syncache results store, reading only: another
  // application_id, or none and schema objects other than syncache's `runs` table with
  // its columns. Returns whether the file still has to be marked.
  bool check_ours() {
    const int app = scalar_int("PRAGMA application_id");
    if (app == kResultsApplicationId) return false;
    if (app != 0) {
      char id[16];
      std::snprintf(id, sizeof id, "0x%08X", static_cast<unsigned>(app));
      throw ResultsStoreError(
          path, std::string("not a syncache results store (application_id ") + id + ")");
    }
    const auto objects = column(
        "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%'"
        " ESCAPE '\\' ORDER BY name");
    if (objects.empty()) return true;
    const std::vector<std::string> ours = {"experiment", "params",  "seed",
                                           "result",     "version", "created"};
    if (objects == std::vector<std::string>{"table runs"} &&
        column("SELECT name FROM pragma_table_info('runs') ORDER BY cid") == ours)
      return true;
    std::string list;
    for (const auto& o : objects) list += (list.empty() ? "" : ", ") + shown(o);
    throw ResultsStoreError(path,
                            "not a syncache results store (it holds " + shown(list, 200) + ")");
  }

  void insert(const std::string& experiment, const std::string& params, std::uint64_t seed,
              const std::string& result, const std::string& version) {
    sqlite3_stmt* s = put.get();
    Reset r{s};
    bind_key(s, experiment, params, seed);
    bind_text(s, 4, result);
    bind_text(s, 5, version);
    if (sqlite3_step(s) != SQLITE_DONE) fail("insert");
  }
};

ResultsStore::ResultsStore(const std::string& path, std::string version, bool read_only)
    : path_(path), version_(std::move(version)), db_(std::make_unique<Db>()) {
  db_->path = path;
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db_->db, flags, nullptr) != SQLITE_OK)
    db_->fail("cannot open");
  sqlite3_extended_result_codes(db_->db, 1);
  sqlite3_busy_timeout(db_->db, 10000);

  // The first statement that reads the file reports a corrupt or foreign file.
  const int schema = db_->scalar_int("PRAGMA user_version");
  const bool unmarked = db_->check_ours();
  if (schema > kSchemaVersion)
    throw ResultsStoreError(path, "schema version " + std::to_string(schema) +
                                      " is newer than this program's (" +
                                      std::to_string(kSchemaVersion) + ")");
  if (read_only) {
    if (schema < kSchemaVersion)
      throw ResultsStoreError(path, "not a results store (empty or foreign)");
    db_->prepare(db_->find,
                 "SELECT result FROM runs WHERE experiment=?1 AND params=?2 AND seed=?3");
    return;
  }
  db_->exec("PRAGMA journal_mode=WAL");
  db_->exec("PRAGMA synchronous=FULL");
  if (schema < kSchemaVersion) {
    db_->exec(
        "BEGIN IMMEDIATE;"
        "CREATE TABLE IF NOT EXISTS runs ("
        "  experiment TEXT NOT NULL,"
        "  params TEXT NOT NULL,"
        "  seed INTEGER NOT NULL,"
        "  result TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  created TEXT NOT NULL,"
        "  PRIMARY KEY (experiment, params, seed)"
        ") WITHOUT ROWID;"
        "PRAGMA user_version=1;"
        "PRAGMA application_id=1398361667;"  // kResultsApplicationId
        "COMMIT;");
  } else if (unmarked) {
    static_assert(kResultsApplicationId == 1398361667);
    db_->exec("PRAGMA application_id=1398361667");
  }
  db_->prepare(db_->find, "SELECT result FROM runs WHERE experiment=?1 AND params=?2 AND seed=?3");
  db_->prepare(db_->put,
               "INSERT OR REPLACE INTO runs (experiment, params, seed, result, version, created)"
               " VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
  db_->prepare(db_->begin, "BEGIN IMMEDIATE");
  db_->prepare(db_->commit, "COMMIT");
  db_->prepare(db_->rollback, "ROLLBACK");
}

ResultsStore::~ResultsStore() = default;

std::optional<nlohmann::json> ResultsStore::find(const std::string& experiment,
                                                 const nlohmann::json& params,
                                                 std::uint64_t seed) const {
  const std::string key = canonical_json(params);
  std::lock_guard lock(mutex_);
  sqlite3_stmt* s = db_->find.get();
  Reset r{s};
  db_->bind_key(s, experiment, key, seed);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) db_->fail("find");
  const std::string text = column_text(s, 0);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ResultsStoreError(path_, "stored result of " + experiment + " " + key + " seed " +
                                       std::to_string(seed) + " is not valid JSON: " + e.what());
  }
}

void ResultsStore::put(const std::string& experiment, const nlohmann::json& params,
                       std::uint64_t seed, const nlohmann::json& result) {
  const std::string key = canonical_json(params);
  const std::string text = result.dump();
  std::lock_guard lock(mutex_);
  db_->insert(experiment, key, seed, text, version_);
}

void ResultsStore::put_many(const std::vector<std::pair<RunSpec, nlohmann::json>>& runs) {
  if (runs.empty()) return;
  std::vector<std::pair<std::string, std::string>> text;
  text.reserve(runs.size());
  for (const auto& [spec, result] : runs)
    text.emplace_back(canonical_json(spec.params), result.dump());
  std::lock_guard lock(mutex_);
  db_->step_done(db_->begin.get(), "begin");
  try {
    for (std::size_t i = 0; i < runs.size(); ++i)
      db_->insert(runs[i].first.experiment, text[i].first, runs[i].first.seed, text[i].second,
                  version_);
    db_->step_done(db_->commit.get(), "commit");
  } catch (...) {
    if (!sqlite3_get_autocommit(db_->db)) {
      sqlite3_step(db_->rollback.get());
      sqlite3_reset(db_->rollback.get());
    }
    throw;
  }
}

std::vector<Row> ResultsStore::rows(const std::string& experiment) const {
  std::lock_guard lock(mutex_);
  Stmt st;
  db_->prepare(st,
               "SELECT params, seed, result, version, created FROM runs WHERE experiment=?1"
               " ORDER BY params, seed");
  db_->bind_text(st.get(), 1, experiment);
  std::vector<Row> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    Row row;
    row.spec.experiment = experiment;
    try {
      row.spec.params = nlohmann::json::parse(column_text(st.get(), 0));
      row.result = nlohmann::json::parse(column_text(st.get(), 2));
    } catch (const nlohmann::json::exception&) {
      throw ResultsStoreError(path_, "a stored run of " + shown(experiment) + " (seed " +
                                         std::to_string(sqlite3_column_int64(st.get(), 1)) +
                                         ") is not valid JSON");
    }
    row.spec.seed = static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 1));
    row.version = column_text(st.get(), 3);
    row.created = column_text(st.get(), 4);
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) db_->fail("rows");
  return out;
}

std::size_t ResultsStore::count(const std::string& experiment) const {
  std::lock_guard lock(mutex_);
  Stmt st;
  db_->prepare(st, "SELECT count(*) FROM runs WHERE experiment=?1");
  db_->bind_text(st.get(), 1, experiment);
  if (sqlite3_step(st.get()) != SQLITE_ROW) db_->fail("count");
  return static_cast<std::size_t>(sqlite3_column_int64(st.get(), 0));
}

std::vector<std::string> ResultsStore::experiments() const {
  std::lock_guard lock(mutex_);
  Stmt st;
  db_->prepare(st, "SELECT DISTINCT experiment FROM runs ORDER BY experiment");
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out.push_back(column_text(st.get(), 0));
  if (rc != SQLITE_DONE) db_->fail("experiments");
  return out;
}

std::string ResultsStore::integrity_check() const {
  std::lock_guard lock(mutex_);
  Stmt st;
  db_->prepare(st, "PRAGMA integrity_check");
  std::string out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    if (!out.empty()) out += '\n';
    out += column_text(st.get(), 0);
  }
  if (rc != SQLITE_DONE) db_->fail("integrity_check");
  return out;
}

}  // namespace syncache

// syncache._core: the C++ library seen from Python (python/syncache/ wraps it). The weight
// stores take and give NumPy arrays; the commands take their parameters as a dict keyed
// by the parameter tables' names and return what the command line prints, parsed. Long
// commands run with the GIL released on a worker thread while this thread watches for
// Ctrl-C (KeyboardInterrupt within a tenth of a second of the library's next check).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "syncache/core/cached_store.hpp"
#include "syncache/core/plain_store.hpp"
#include "syncache/core/rule.hpp"
#include "syncache/experiments/commands.hpp"
#include "syncache/experiments/experiment.hpp"
#include "syncache/experiments/figures.hpp"
#include "syncache/experiments/mlp_training.hpp"
#include "syncache/io/interrupt.hpp"
#include "syncache/io/limits.hpp"
#include "syncache/io/mnist.hpp"
#include "syncache/io/params.hpp"
#include "syncache/io/results.hpp"
#include "syncache/models/mlp.hpp"
#include "syncache/models/perceptron.hpp"
#include "syncache/models/spiking.hpp"

namespace py = pybind11;
using nlohmann::json;
using syncache::ParamError;

namespace {

// ---- Python values <-> JSON ----

std::string type_name(const py::handle& h) {
  return py::str(py::type::of(h).attr("__name__")).cast<std::string>();
}

// kwargs -> JSON for the parameter tables: bool, int, float (inf as "inf", the tables'
// spelling), str, and lists / dicts of these. Anything else is a ParamError of its key.
json to_json(const py::handle& v, const std::string& key) {
  if (v.is_none()) throw ParamError(key, "None is not a value (leave the keyword out)");
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  if (py::isinstance<py::int_>(v)) {
    try {
      return v.cast<long long>();
    } catch (const py::cast_error&) {
    }
    try {
      return v.cast<unsigned long long>();  // a seed up to 2^64 - 1
    } catch (const py::cast_error&) {
      throw ParamError(key, "integer out of range (got " + py::str(v).cast<std::string>() + ")");
    }
  }
  if (py::isinstance<py::float_>(v)) {
    const double d = v.cast<double>();
    if (std::isinf(d) && d > 0) return "inf";
    return d;  // NaN and -inf are refused by the tables' range checks
  }
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    json a = json::array();
    for (const auto& x : v) a.push_back(to_json(x, key));
    return a;
  }
  if (py::isinstance<py::dict>(v)) {
    json o = json::object();
    for (const auto& [k, x] : v.cast<py::dict>()) {
      const std::string name = py::str(k).cast<std::string>();
      o[name] = to_json(x, key.empty() ? name : key + "." + name);
    }
    return o;
  }
  throw ParamError(key, "unsupported type " + type_name(v));
}

json kwargs_json(const py::dict& kw) {
  json o = json::object();
  for (const auto& [k, v] : kw) {
    const std::string key = py::str(k).cast<std::string>();
    o[key] = to_json(v, key);
  }
  return o;
}

// JSON -> Python: objects become dicts (in the order printed), "inf" becomes math.inf.
py::object to_python(const syncache::commands::Json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return py::none();
    case json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case json::value_t::number_integer:
      return py::int_(j.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return py::int_(j.get<std::uint64_t>());
    case json::value_t::number_float:
      return py::float_(j.get<double>());
    case json::value_t::string: {
      const auto s = j.get<std::string>();
      if (s == "inf") return py::float_(INFINITY);
      return py::str(s);
    }
    case json::value_t::array: {
      py::list l;
      for (const auto& x : j) l.append(to_python(x));
      return l;
    }
    default: {
      py::dict d;
      for (const auto& [k, x] : j.items()) d[py::str(k)] = to_python(x);
      return d;
    }
  }
}

// ---- Long calls: GIL released, Ctrl-C honoured ----

// Runs f() on a worker thread with the GIL released; this thread checks for signals every
// 100 ms. On Ctrl-C it asks the library to stop (syncache::request_interrupt), waits for
// the worker to return and raises KeyboardInterrupt; the library's own errors are raised
// as they are.
template <class F>
auto interruptible(F&& f) -> decltype(f()) {
  using R = decltype(f());
  syncache::clear_interrupt();
  std::optional<R> result;
  std::exception_ptr error;
  bool done = false, interrupted = false;
  std::mutex m;
  std::condition_variable cv;
  {
    py::gil_scoped_release release;
    std::thread worker([&] {
      try {
        result.emplace(f());
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(m);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lock(m);
    while (!cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return done; })) {
      if (interrupted) continue;
      lock.unlock();
      {
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) {  // sets KeyboardInterrupt (or the handler's error)
          interrupted = true;
          syncache::request_interrupt();
        }
      }
      lock.lock();
    }
    lock.unlock();
    worker.join();
  }
  syncache::clear_interrupt();
  if (interrupted) throw py::error_already_set();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

// ---- Weight stores ----

syncache::DecayForm decay_form(const std::string& name) {
  if (name == "linear") return syncache::DecayForm::linear;
  if (name == "exponential") return syncache::DecayForm::exponential;
  throw ParamError("decay", "must be linear or exponential (got '" + name + "')");
}

void check_shape(std::size_t rows, std::size_t cols) {
  if (rows == 0) throw ParamError("rows", "must be >= 1");
  if (cols == 0) throw ParamError("cols", "must be >= 1");
  // l, s, step changes and the copies handed out: a few doubles per synapse.
  syncache::require_memory("rows/cols",
                           40.0 * static_cast<double>(rows) * static_cast<double>(cols));
}

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

// x * 0 is +-0 for a finite x and NaN for inf or NaN; eight independent sums of these
// vectorise (a test per element with an early exit does not).
template <class T>
bool all_finite(const T* p, std::size_t n) {
  T acc[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t k = 0; k < 8; ++k) acc[k] += p[i + k] * T(0);
  T t = 0;
  for (; i < n; ++i) t += p[i] * T(0);
  for (T v : acc) t += v;
  return t == T(0);
}

// The one conversion of an array argument (docs/hardening.md, "Python"): whatever
// numpy.asarray makes of it must hold integers or floats; booleans, strings, objects and
// complex numbers are a TypeError naming `key`. NumPy's MemoryError passes through.
py::array numeric_array(const py::handle& h, const std::string& key) {
  py::array raw;
  if (py::isinstance<py::array>(h)) {
    raw = py::reinterpret_borrow<py::array>(h);
  } else {
    try {
      raw = py::module_::import("numpy").attr("asarray")(h);
    } catch (py::error_already_set& e) {
      if (e.matches(PyExc_MemoryError)) throw;
      throw py::type_error(key + ": must be an array of numbers (got " + type_name(h) + ")");
    }
  }
  const char kind = raw.dtype().kind();
  if (kind != 'i' && kind != 'u' && kind != 'f') {
    throw py::type_error(key + ": must hold real numbers (got dtype " +
                         py::str(raw.dtype()).cast<std::string>() + ")");
  }
  return raw;
}

// A numeric_array as C-contiguous doubles (no copy when it already is; a copy otherwise,
// where running out of memory is a MemoryError).
Array as_doubles(const py::array& raw) {
  if (raw.dtype().is(py::dtype::of<double>()) && (raw.flags() & py::array::c_style) != 0) {
    return py::reinterpret_borrow<Array>(raw);
  }
  return py::module_::import("numpy")
      .attr("ascontiguousarray")(raw, py::dtype::of<double>())
      .cast<Array>();
}

// A (rows, cols) array or, with a row, a 1-D array of length cols; finite values.
Array change_array(const py::handle& dw, std::size_t rows, std::size_t cols, bool one_row,
                   const char* key) {
  const py::array a = numeric_array(dw, key);
  const auto shape = [&] {
    std::string s = "(";
    for (py::ssize_t k = 0; k < a.ndim(); ++k) s += (k ? ", " : "") + std::to_string(a.shape(k));
    return s + (a.ndim() == 1 ? ",)" : ")");
  };
  if (one_row) {
    if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != cols) {
      throw ParamError(
          key, "with row=, must have shape (" + std::to_string(cols) + ",) (got " + shape() + ")");
    }
  } else if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(0)) != rows ||
             static_cast<std::size_t>(a.shape(1)) != cols) {
    throw ParamError(key, "must have shape (" + std::to_string(rows) + ", " + std::to_string(cols) +
                              ") (got " + shape() + ")");
  }
  Array d = as_doubles(a);
  if (!all_finite(d.data(), static_cast<std::size_t>(d.size()))) {
    const double* p = d.data();
    py::ssize_t i = 0;
    while (std::isfinite(p[i])) ++i;
    throw ParamError(key, "must be finite (a NaN or inf at flat index " + std::to_string(i) + ")");
  }
  return d;
}

std::size_t row_index(const py::handle& row, std::size_t rows) {
  if (py::isinstance<py::bool_>(row) || PyIndex_Check(row.ptr()) == 0) {
    throw py::type_error("row: must be an integer");
  }
  const py::int_ k(py::reinterpret_borrow<py::object>(row));
  const py::int_ lo(0), hi(static_cast<long long>(rows));
  if (k < lo || !(k < hi)) {
    throw ParamError("row", "must lie in [0, " + std::to_string(rows - 1) + "] (got " +
                                py::repr(k).cast<std::string>() + ")");
  }
  return k.cast<std::size_t>();
}

py::array_t<double> matrix(std::size_t rows, std::size_t cols,
                           const std::function<double(std::size_t, std::size_t)>& at) {
  py::array_t<double> out({rows, cols});
  auto v = out.mutable_unchecked<2>();
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) v(r, c) = at(r, c);
  return out;
}

// ---- Checkpoints and writing into a caller's buffer ----

// A C-contiguous NumPy array of n float32 or float64 values (any shape; a tensor's .numpy()
// shares the tensor's memory), writable when asked; `key` names it in errors.
py::array float_buffer(const py::handle& h, std::size_t n, const std::string& key, bool writable) {
  if (!py::isinstance<py::array>(h)) {
    throw py::type_error(key + ": must be a NumPy array of float32 or float64 (got " +
                         type_name(h) + ")");
  }
  auto a = py::reinterpret_borrow<py::array>(h);
  if (!a.dtype().is(py::dtype::of<float>()) && !a.dtype().is(py::dtype::of<double>())) {
    throw py::type_error(key + ": must hold float32 or float64 (got " +
                         py::str(a.dtype()).cast<std::string>() + ")");
  }
  if (writable && !a.writeable()) throw ParamError(key, "must be writable");
  if ((a.flags() & py::array::c_style) == 0) throw ParamError(key, "must be C-contiguous");
  if (static_cast<std::size_t>(a.size()) != n) {
    throw ParamError(key, "must hold rows * cols = " + std::to_string(n) + " values (got " +
                              std::to_string(a.size()) + ")");
  }
  return a;
}

bool is_float32(const py::array& a) {
  return a.dtype().is(py::dtype::of<float>());
}

// Writes at(i) for i < n into `out` (float_buffer's kinds of array).
template <class F>
void write_into(const py::handle& out, std::size_t n, F&& at) {
  py::array a = float_buffer(out, n, "out", true);
  if (is_float32(a)) {
    auto* p = static_cast<float*>(a.mutable_data());
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(at(i));
  } else {
    auto* p = static_cast<double*>(a.mutable_data());
    for (std::size_t i = 0; i < n; ++i) p[i] = at(i);
  }
}

// Calls f(p) with p the array's data as const float* or const double*.
template <class F>
void with_data(const py::array& a, F&& f) {
  if (is_float32(a)) {
    f(static_cast<const float*>(a.data()));
  } else {
    f(static_cast<const double*>(a.data()));
  }
}

py::array_t<double> vector_array(const std::vector<double>& v) {
  py::array_t<double> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

py::array_t<double> matrix_of(const std::vector<double>& v, std::size_t rows, std::size_t cols) {
  py::array_t<double> out({rows, cols});
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// A state dict's entry (get_state()'s keys), reported as "state['key']".
struct StateReader {
  py::dict d;

  explicit StateReader(const py::handle& state) {
    if (!py::isinstance<py::dict>(state)) {
      throw py::type_error("state: must be a dict from get_state() (got " + type_name(state) + ")");
    }
    d = py::reinterpret_borrow<py::dict>(state);
  }
  static std::string key(const std::string& k) { return "state['" + k + "']"; }
  py::object at(const std::string& k) const {
    if (!d.contains(k)) throw ParamError("state", "missing the entry '" + k + "'");
    return d[py::str(k)];
  }
  // A (rows, cols) array of finite values, row-major.
  std::vector<double> matrix(const std::string& k, std::size_t rows, std::size_t cols) const {
    const std::string name = key(k);
    Array a = change_array(at(k), rows, cols, false, name.c_str());
    return {a.data(), a.data() + a.size()};
  }
  // A 1-D array of n finite values >= 0.
  std::vector<double> vector(const std::string& k, std::size_t n) const {
    const py::array raw = numeric_array(at(k), key(k));
    if (raw.ndim() != 1 || static_cast<std::size_t>(raw.shape(0)) != n) {
      throw ParamError(key(k), "must have shape (" + std::to_string(n) + ",)");
    }
    const Array a = as_doubles(raw);
    std::vector<double> v(a.data(), a.data() + n);
    for (double x : v) {
      if (!(std::isfinite(x) && x >= 0.0)) throw ParamError(key(k), "must be finite and >= 0");
    }
    return v;
  }
  // A finite number >= 0 (> 0 with `positive`).
  double number(const py::handle& h, const std::string& name, bool positive = false) const {
    if (py::isinstance<py::bool_>(h) || py::isinstance<py::str>(h)) {
      throw py::type_error(name + ": must be a number");
    }
    double v = 0.0;
    try {
      v = h.cast<double>();
    } catch (const py::cast_error&) {
      throw py::type_error(name + ": must be a number");
    }
    if (!std::isfinite(v) || v < 0.0 || (positive && v == 0.0)) {
      throw ParamError(name, std::string("must be finite and ") + (positive ? "> 0" : ">= 0") +
                                 " (got " + std::to_string(v) + ")");
    }
    return v;
  }
  std::int64_t count(const std::string& k) const {
    const py::object h = at(k);
    if (py::isinstance<py::bool_>(h) || PyIndex_Check(h.ptr()) == 0) {
      throw py::type_error(key(k) + ": must be an integer");
    }
    const auto v = h.cast<long long>();
    if (v < 0) throw ParamError(key(k), "must be >= 0");
    return v;
  }
  // The four running costs of a store (energy dict keys classic, consolidation,
  // maintenance, change).
  syncache::EnergyTally tally() const {
    const py::object e = at("energy");
    if (!py::isinstance<py::dict>(e)) throw py::type_error(key("energy") + ": must be a dict");
    const auto ed = py::reinterpret_borrow<py::dict>(e);
    const auto term = [&](const char* name) {
      const std::string k = key("energy") + "['" + name + "']";
      if (!ed.contains(name))
        throw ParamError(key("energy"), std::string("missing '") + name + "'");
      return number(ed[name], k);
    };
    syncache::EnergyTally t;
    t.classic = term("classic");
    t.consolidation = term("consolidation");
    t.maintenance = term("maintenance");
    t.change = term("change");
    return t;
  }
};

py::dict tally_dict(const syncache::EnergyTally& e) {
  py::dict d;
  d["classic"] = e.classic;
  d["consolidation"] = e.consolidation;
  d["maintenance"] = e.maintenance;
  d["change"] = e.change;
  return d;
}

// Common to both stores: the starting weights and the energy dict.
struct StoreBase {
  std::size_t rows, cols;
  syncache::ChangeCost cost;
  std::vector<double> initial;

  StoreBase(std::size_t r, std::size_t c, double alpha, bool potentiation_only,
            const py::object& init)
      : rows(r), cols(c), cost(alpha, potentiation_only), initial(r * c, 0.0) {
    if (!init.is_none()) {
      Array a = change_array(init, rows, cols, false, "initial");
      std::copy(a.data(), a.data() + a.size(), initial.begin());
    }
    const std::lock_guard lock(live_mutex);
    live.insert(this);
  }
  StoreBase(const StoreBase&) = delete;
  StoreBase& operator=(const StoreBase&) = delete;
  ~StoreBase() {
    const std::lock_guard lock(live_mutex);
    live.erase(this);
  }

  // Whether `s` was built by a constructor. For an object whose __init__ never ran
  // (X.__new__(X)) pybind11 hands the methods an allocated but unconstructed block; its
  // address is not in this set, so nothing of it is read.
  static bool constructed(const StoreBase* s) {
    const std::lock_guard lock(live_mutex);
    return live.count(s) != 0;
  }
  static inline std::mutex live_mutex;
  static inline std::unordered_set<const StoreBase*> live;

  // add(dw): a (rows, cols) change, or with row= one row's change, checked, then added.
  template <class Store>
  void add_to(Store& store, const py::handle& dw, const py::object& row) const {
    if (row.is_none()) {
      Array a = change_array(dw, rows, cols, false, "dw");
      for (std::size_t r = 0; r < rows; ++r) store.add(r, a.data() + r * cols);
    } else {
      const std::size_t r = row_index(row, rows);
      Array a = change_array(dw, rows, cols, true, "dw");
      store.add(r, a.data());
    }
  }

  // add_change(new, old): the change new - old of a tensor (float32 or float64 arrays of
  // rows * cols values; the difference taken in double, exact for float32) added row by
  // row, without a difference array in Python. Both are checked finite first, so a refused
  // change adds nothing.
  template <class Store>
  void add_change_to(Store& store, const py::handle& now, const py::handle& before) const {
    const std::size_t n = rows * cols;
    const py::array a = float_buffer(now, n, "new", false);
    const py::array b = float_buffer(before, n, "old", false);
    const auto check = [n](const py::array& x, const char* key) {
      with_data(x, [&](const auto* p) {
        if (all_finite(p, n)) return;
        std::size_t i = 0;
        while (std::isfinite(static_cast<double>(p[i]))) ++i;
        throw ParamError(key,
                         "must be finite (a NaN or inf at flat index " + std::to_string(i) + ")");
      });
    };
    check(a, "new");
    check(b, "old");
    std::vector<double> dw(cols);
    with_data(a, [&](const auto* pa) {
      with_data(b, [&](const auto* pb) {
        for (std::size_t r = 0; r < rows; ++r) {
          const std::size_t o = r * cols;
          for (std::size_t i = 0; i < cols; ++i) {
            dw[i] = static_cast<double>(pa[o + i]) - static_cast<double>(pb[o + i]);  // Delta w
          }
          store.add(r, dw.data());
        }
      });
    });
  }

  py::dict energy_dict(const syncache::EnergyTally& e, double pending, std::int64_t events,
                       const std::function<double(std::size_t)>& weight) const {
    double minimal = 0.0;
    for (std::size_t i = 0; i < rows * cols; ++i) minimal += cost(weight(i) - initial[i]);
    py::dict d;
    d["classic"] = e.classic;
    d["consolidation"] = e.consolidation;
    d["maintenance"] = e.maintenance;
    d["change"] = e.change;
    d["pending"] = pending;
    d["total"] = e.consolidation + e.maintenance + e.change + pending;
    d["minimal"] = minimal;
    d["consolidation_events"] = events;
    return d;
  }
};

class PyCachedStore : public StoreBase {
 public:
  static constexpr const char* kName = "CachedStore";
  PyCachedStore(std::size_t rows, std::size_t cols, const std::string& rule, double theta,
                double tau, double c, double b, double alpha, bool potentiation_only,
                const std::string& decay, const py::object& initial)
      : StoreBase((check_shape(rows, cols), rows), cols, alpha, potentiation_only, initial),
        store_(rows, cols, params(rule, theta, tau, c, b, decay), cost) {
    store_.set_persistent(this->initial.data());
  }

  void begin_step() { store_.begin_step(); }
  void add(const py::handle& dw, const py::object& row) { add_to(store_, dw, row); }
  void add_change(const py::handle& now, const py::handle& before) {
    add_change_to(store_, now, before);
  }
  void apply_rule() { store_.apply_rule(); }
  void update(const py::handle& dw, const py::object& row) {
    add(dw, row);
    store_.apply_rule();
  }
  void finish() { store_.finish(); }
  void decay() { store_.decay(); }
  void charge_maintenance() { store_.charge_maintenance(); }

  // w = l + g s~ (the expression of CachedStore::weight) into the caller's buffer.
  void write_weights(const py::handle& out) const {
    const double* l = store_.persistent_row(0);
    const double* s = store_.scaled_transient_row(0);
    const double g = store_.gain();
    write_into(out, rows * cols, [&](std::size_t i) { return l[i] + g * s[i]; });
  }

  // The whole state: l, s~ with its gain g (s = g s~), each row's sum and max |s~| as the
  // store keeps them (so that a restored store decides exactly as the original), the
  // running costs, the consolidation events and the starting weights (for minimal).
  py::dict get_state() const {
    const auto st = store_.state();
    py::dict d;
    d["persistent"] = matrix_of(st.l, rows, cols);
    d["scaled_transient"] = matrix_of(st.s, rows, cols);
    d["gain"] = st.gain;
    d["row_sum"] = vector_array(st.row_sum);
    d["row_max"] = vector_array(st.row_max);
    d["energy"] = tally_dict(st.energy);
    d["consolidation_events"] = st.events;
    d["initial"] = matrix_of(initial, rows, cols);
    return d;
  }
  void set_state(const py::handle& state) {
    const StateReader in(state);
    syncache::CachedStore::State st;
    st.l = in.matrix("persistent", rows, cols);
    st.s = in.matrix("scaled_transient", rows, cols);
    st.gain = in.number(in.at("gain"), StateReader::key("gain"), true);
    st.row_sum = in.vector("row_sum", rows);
    st.row_max = in.vector("row_max", rows);
    // The row statistics must be those of s~: the max exactly, the sum up to the order
    // of summation.
    for (std::size_t r = 0; r < rows; ++r) {
      double sum = 0.0, mx = 0.0;
      for (std::size_t c = 0; c < cols; ++c) {
        sum += std::fabs(st.s[r * cols + c]);
        mx = std::max(mx, std::fabs(st.s[r * cols + c]));
      }
      if (st.row_max[r] != mx) {
        throw ParamError(StateReader::key("row_max"),
                         "row " + std::to_string(r) + " is not max |s~| of the row");
      }
      if (std::fabs(st.row_sum[r] - sum) > 1e-9 * sum) {
        throw ParamError(StateReader::key("row_sum"),
                         "row " + std::to_string(r) + " is not sum |s~| of the row");
      }
    }
    st.energy = in.tally();
    st.events = in.count("consolidation_events");
    std::vector<double> init = in.matrix("initial", rows, cols);
    store_ = syncache::CachedStore(rows, cols, store_.params(), cost, std::move(st));
    initial = std::move(init);
  }
  // The constructor's arguments, for pickling.
  py::tuple arguments() const {
    const auto& p = store_.params();
    return py::make_tuple(
        rows, cols, std::string(syncache::rule_name(p.rule)), p.theta, p.tau, p.c, p.b,
        cost.alpha(), cost.potentiation_only(),
        std::string(p.decay == syncache::DecayForm::linear ? "linear" : "exponential"));
  }

  py::array_t<double> weights() const {
    return matrix(rows, cols, [&](std::size_t r, std::size_t c) { return store_.weight(r, c); });
  }
  py::array_t<double> persistent() const {
    return matrix(rows, cols,
                  [&](std::size_t r, std::size_t c) { return store_.persistent(r, c); });
  }
  py::array_t<double> transient() const {
    return matrix(rows, cols, [&](std::size_t r, std::size_t c) { return store_.transient(r, c); });
  }
  py::dict energy() const {
    double pending = 0.0;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) pending += cost(store_.transient(r, c));
    return energy_dict(store_.energy(), pending, store_.consolidation_events(),
                       [&](std::size_t i) { return store_.weight(i / cols, i % cols); });
  }
  std::string repr() const {
    const auto& p = store_.params();
    std::ostringstream o;
    o << "CachedStore(" << rows << ", " << cols << ", rule='" << syncache::rule_name(p.rule)
      << "', theta=" << p.theta << ", tau=" << p.tau << ", c=" << p.c << ", b=" << p.b
      << ", alpha=" << cost.alpha() << ", decay='"
      << (p.decay == syncache::DecayForm::linear ? "linear" : "exponential") << "')";
    return o.str();
  }

 private:
  static syncache::CacheParams params(const std::string& rule, double theta, double tau, double c,
                                      double b, const std::string& decay) {
    syncache::CacheParams p;
    const auto r =
        syncache::find_rule(rule, syncache::kPerceptron | syncache::kMlp | syncache::kSpiking);
    if (!r || *r == syncache::Rule::classic) {
      throw ParamError("rule", "must be one of " +
                                   syncache::rule_names(syncache::kMlp, ", ", true) + " (got '" +
                                   rule + "'; classic learning is PlainStore)");
    }
    p.rule = *r;
    p.theta = theta;
    p.tau = tau;
    p.c = c;
    p.b = b;
    p.decay = decay_form(decay);
    p.validate();
    return p;
  }
  syncache::CachedStore store_;
};

class PyPlainStore : public StoreBase {
 public:
  static constexpr const char* kName = "PlainStore";
  PyPlainStore(std::size_t rows, std::size_t cols, double alpha, bool potentiation_only,
               const py::object& initial)
      : StoreBase((check_shape(rows, cols), rows), cols, alpha, potentiation_only, initial),
        store_(rows, cols, cost) {
    store_.set_weights(this->initial.data());
  }
  void begin_step() { store_.begin_step(); }
  void add(const py::handle& dw, const py::object& row) { add_to(store_, dw, row); }
  void add_change(const py::handle& now, const py::handle& before) {
    add_change_to(store_, now, before);
  }
  void apply_rule() {}
  void update(const py::handle& dw, const py::object& row) { add(dw, row); }
  void finish() { store_.finish(); }
  void decay() {}
  void charge_maintenance() {}
  void write_weights(const py::handle& out) const {
    write_into(out, rows * cols, [&](std::size_t i) { return store_.weight(i / cols, i % cols); });
  }
  // The weights, the running costs and the starting weights.
  py::dict get_state() const {
    py::dict d;
    d["weights"] = weights();
    d["energy"] = tally_dict(store_.energy());
    d["initial"] = matrix_of(initial, rows, cols);
    return d;
  }
  void set_state(const py::handle& state) {
    const StateReader in(state);
    const std::vector<double> w = in.matrix("weights", rows, cols);
    const syncache::EnergyTally e = in.tally();
    std::vector<double> init = in.matrix("initial", rows, cols);
    store_.set_weights(w.data());
    store_.set_energy(e);
    initial = std::move(init);
  }
  py::tuple arguments() const {
    return py::make_tuple(rows, cols, cost.alpha(), cost.potentiation_only());
  }
  py::array_t<double> weights() const {
    return matrix(rows, cols, [&](std::size_t r, std::size_t c) { return store_.weight(r, c); });
  }
  py::array_t<double> persistent() const { return weights(); }  // every change is persistent
  py::array_t<double> transient() const {
    return matrix(rows, cols, [](std::size_t, std::size_t) { return 0.0; });
  }
  py::dict energy() const {
    return energy_dict(store_.energy(), 0.0, 0,
                       [&](std::size_t i) { return store_.weight(i / cols, i % cols); });
  }
  std::string repr() const {
    std::ostringstream o;
    o << "PlainStore(" << rows << ", " << cols << ", alpha=" << cost.alpha() << ")";
    return o.str();
  }

 private:
  syncache::PlainStore<double> store_;
};

// ---- Commands ----

py::object perceptron(const py::dict& kw, const py::object& patterns, const py::object& targets) {
  const json given = kwargs_json(kw);
  if (patterns.is_none() != targets.is_none()) {
    throw ParamError(patterns.is_none() ? "patterns" : "targets",
                     patterns.is_none() ? "required with targets (a (P, N) array)"
                                        : "required with patterns (P values +1 or -1)");
  }
  std::optional<syncache::PatternSet<double>> set;
  if (!patterns.is_none()) {
    const py::array xr = numeric_array(patterns, "patterns");
    if (xr.ndim() != 2) throw ParamError("patterns", "must be a 2-D array (P, N)");
    const py::array dr = numeric_array(targets, "targets");
    const auto P = static_cast<std::size_t>(xr.shape(0)), N = static_cast<std::size_t>(xr.shape(1));
    if (dr.ndim() != 1 || static_cast<std::size_t>(dr.shape(0)) != P) {
      throw ParamError("targets", "must have shape (" + std::to_string(P) + ",), one per pattern");
    }
    const Array x = as_doubles(xr), d = as_doubles(dr);
    set.emplace(syncache::patterns_from_values(x.data(), P, N, d.data()));
  }
  const syncache::PatternSet<double>* given_set = set ? &*set : nullptr;
  return to_python(interruptible([&] { return syncache::commands::perceptron(given, given_set); }));
}

py::object spiking(const py::dict& kw) {
  const json given = kwargs_json(kw);
  return to_python(interruptible([&] { return syncache::commands::spiking(given); }));
}

py::object theory_perceptron(const py::dict& kw) {
  return to_python(syncache::commands::theory_perceptron(kwargs_json(kw)));
}
py::object theory_transient(const py::dict& kw) {
  return to_python(syncache::commands::theory_transient(kwargs_json(kw)));
}

// The learning curve as columns (the CLI's CSV columns).
py::dict mlp(const py::dict& kw) {
  const json given = kwargs_json(kw);
  auto points = interruptible([&] {
    std::vector<syncache::LearningPoint> v;
    syncache::commands::mlp(given, [&](const syncache::LearningPoint& p) { v.push_back(p); });
    return v;
  });
  const std::size_t n = points.size();
  py::array_t<std::int64_t> samples(n), epoch(n), updates(n), events(n);
  py::array_t<double> accuracy(n), total(n), cons(n), maint(n), pending(n), minimal(n);
  for (std::size_t k = 0; k < n; ++k) {
    const auto& p = points[k];
    samples.mutable_at(k) = p.samples;
    epoch.mutable_at(k) = p.epoch;
    accuracy.mutable_at(k) = p.accuracy;
    total.mutable_at(k) = p.energy.total();
    cons.mutable_at(k) = p.energy.consolidation;
    maint.mutable_at(k) = p.energy.maintenance;
    pending.mutable_at(k) = p.energy.pending;
    minimal.mutable_at(k) = p.energy.minimal;
    updates.mutable_at(k) = p.energy.updates;
    events.mutable_at(k) = p.energy.consolidation_events;
  }
  py::dict d;
  d["samples"] = samples;
  d["epoch"] = epoch;
  d["accuracy"] = accuracy;
  d["energy_total"] = total;
  d["energy_consolidation"] = cons;
  d["energy_maintenance"] = maint;
  d["energy_pending"] = pending;
  d["energy_minimal"] = minimal;
  d["updates"] = updates;
  d["consolidation_events"] = events;
  // Per layer, the CSV's hidden_... and output_... columns.
  for (std::size_t l = 0; l < 2; ++l) {
    py::array_t<std::int64_t> lu(n), lev(n);
    py::array_t<double> lt(n), lc(n), lm(n), lp(n), lmi(n);
    for (std::size_t k = 0; k < n; ++k) {
      const auto& e = points[k].layers[l];
      lt.mutable_at(k) = e.total();
      lc.mutable_at(k) = e.consolidation;
      lm.mutable_at(k) = e.maintenance;
      lp.mutable_at(k) = e.pending;
      lmi.mutable_at(k) = e.minimal;
      lu.mutable_at(k) = e.updates;
      lev.mutable_at(k) = e.consolidation_events;
    }
    const std::string pre = syncache::kMlpLayerNames[l];
    d[py::str(pre + "_energy_total")] = lt;
    d[py::str(pre + "_energy_consolidation")] = lc;
    d[py::str(pre + "_energy_maintenance")] = lm;
    d[py::str(pre + "_energy_pending")] = lp;
    d[py::str(pre + "_energy_minimal")] = lmi;
    d[py::str(pre + "_updates")] = lu;
    d[py::str(pre + "_consolidation_events")] = lev;
  }
  return d;
}

// A figure's CSV through the results store at `store` ("" = none); returns its path. The
// picture is drawn by the package (syncache.plot), not here.
std::string figure(const std::string& name, const std::string& scale, const std::string& out,
                   int threads, const std::string& store, const std::string& experiments) {
  const auto* spec = syncache::find_figure(name);
  if (spec == nullptr) {
    std::string names;
    for (const auto& f : syncache::figure_registry()) names += (names.empty() ? "" : ", ") + f.name;
    throw ParamError("name", "unknown figure '" + name + "' (allowed: " + names + ")");
  }
  if (scale != "quick" && scale != "full")
    throw ParamError("scale", "must be quick or full (got '" + scale + "')");
  if (threads < 0) throw ParamError("threads", "must be >= 0 (0 = the hardware threads)");
  return interruptible([&] {
    std::unique_ptr<syncache::ResultsStore> db;
    syncache::ExperimentEnv env;
    env.runner.threads = threads;
    env.runner.progress = false;
    if (!store.empty()) {
      db = std::make_unique<syncache::ResultsStore>(store);
      env.store = db.get();
    }
    syncache::FigureRunOptions opt;
    opt.scale = scale;
    opt.out_dir = out;
    opt.experiments_dir = experiments;
    return syncache::run_figure(*spec, opt, env).csv;
  });
}

// A sweep from its TOML text (`source` names it in errors); returns the CSV text.
std::string sweep(const std::string& text, const std::string& source, int threads,
                  const std::string& store) {
  if (threads < 0) throw ParamError("threads", "must be >= 0 (0 = the hardware threads)");
  const auto cfg = syncache::ExperimentConfig::parse(text, source, "");
  return interruptible([&] {
    std::unique_ptr<syncache::ResultsStore> db;
    syncache::ExperimentEnv env;
    env.runner.threads = threads;
    env.runner.progress = false;
    if (!store.empty()) {
      db = std::make_unique<syncache::ResultsStore>(store);
      env.store = db.get();
    }
    return syncache::run_sweep(cfg, env);
  });
}

// MNIST through the library's IDX reader: images (count, 784) float32 (pixel / 255) and
// labels (count,) uint8 of the training and test sets; limits > 0 keep the first ones.
py::dict mnist_load(const std::string& dir, std::size_t train_limit, std::size_t test_limit) {
  auto m = std::make_shared<syncache::mnist::Mnist>(
      interruptible([&] { return syncache::mnist::load(dir, train_limit, test_limit); }));
  // The arrays view the loaded vectors (no copy) and keep them alive.
  py::capsule owner(new std::shared_ptr<syncache::mnist::Mnist>(m), [](void* p) {
    delete static_cast<std::shared_ptr<syncache::mnist::Mnist>*>(p);
  });
  py::dict d;
  const auto put = [&](const char* name, syncache::mnist::Dataset& ds) {
    d[(std::string(name) + "_images").c_str()] =
        py::array_t<float>({ds.count, ds.pixels()}, ds.images.data(), owner);
    d[(std::string(name) + "_labels").c_str()] =
        py::array_t<std::uint8_t>({static_cast<py::ssize_t>(ds.count)}, ds.labels.data(), owner);
  };
  put("train", m->train);
  put("test", m->test);
  return d;
}

// The parameter tables, for the wrappers' signatures and docs: name -> (kind, default, doc).
py::list table(std::span<const syncache::ParamSpec> specs) {
  py::list l;
  for (const auto& s : specs) {
    const char* kinds[] = {"integer", "seed", "real", "flag", "text"};
    l.append(py::make_tuple(std::string(s.name), kinds[static_cast<int>(s.kind)],
                            std::string(s.default_text), std::string(s.doc), s.range_text(),
                            std::string(s.unit)));
  }
  return l;
}

// A store whose constructor ran, or RuntimeError "CachedStore: not initialised ...".
template <class Store>
Store& ready(Store& s) {
  if (!StoreBase::constructed(&s)) {
    throw std::runtime_error(std::string(Store::kName) +
                             ": not initialised (its __init__ was not called)");
  }
  return s;
}

// A member function as a function of the store that checks ready() first.
template <class Store, class R, class... A>
auto checked(R (Store::*f)(A...)) {
  return [f](Store& s, A... a) -> R { return (ready(s).*f)(std::forward<A>(a)...); };
}
template <class Store, class R, class... A>
auto checked(R (Store::*f)(A...) const) {
  return [f](Store& s, A... a) -> R { return (ready(s).*f)(std::forward<A>(a)...); };
}

// The methods and properties both stores share (the same names and signatures); each one
// refuses a store whose __init__ never ran.
template <class Store>
void bind_store(py::class_<Store> c) {
  c.def("begin_step", checked(&Store::begin_step))
      .def("add", checked(&Store::add), py::arg("dw"), py::kw_only(), py::arg("row") = py::none())
      .def("add_change", checked(&Store::add_change), py::arg("new"), py::arg("old"))
      .def("apply_rule", checked(&Store::apply_rule))
      .def("update", checked(&Store::update), py::arg("dw"), py::kw_only(),
           py::arg("row") = py::none())
      .def("finish", checked(&Store::finish))
      .def("decay", checked(&Store::decay))
      .def("charge_maintenance", checked(&Store::charge_maintenance))
      .def("write_weights", checked(&Store::write_weights), py::arg("out"))
      .def("get_state", checked(&Store::get_state))
      .def("set_state", checked(&Store::set_state), py::arg("state"))
      .def("_arguments", checked(&Store::arguments))
      .def_property_readonly("rows", [](Store& s) { return ready(s).rows; })
      .def_property_readonly("cols", [](Store& s) { return ready(s).cols; })
      .def_property_readonly("weights", checked(&Store::weights))
      .def_property_readonly("persistent", checked(&Store::persistent))
      .def_property_readonly("transient", checked(&Store::transient))
      .def_property_readonly("energy", checked(&Store::energy))
      .def("__repr__", checked(&Store::repr));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "syncache's C++ core (use the package syncache)";
  m.attr("__version__") = SYNCACHE_VERSION;

  // Results-store problems (a foreign or newer file, a folder, a read-only file, a stored
  // run of the wrong shape): an OSError of their own, "results store PATH: what".
  py::register_exception<syncache::ResultsStoreError>(m, "ResultsStoreError", PyExc_OSError);

  // ParamError -> ValueError "key: message"; Interrupted -> KeyboardInterrupt.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const syncache::Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "out of memory; use smaller sizes or fewer runs");
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  bind_store(py::class_<PyCachedStore>(m, "CachedStore")
                 .def(py::init<std::size_t, std::size_t, const std::string&, double, double, double,
                               double, double, bool, const std::string&, const py::object&>(),
                      py::arg("rows"), py::arg("cols"), py::arg("rule"), py::arg("theta"),
                      py::arg("tau"), py::arg("c"), py::arg("b"), py::arg("alpha"),
                      py::arg("potentiation_only"), py::arg("decay"), py::arg("initial")));
  bind_store(py::class_<PyPlainStore>(m, "PlainStore")
                 .def(py::init<std::size_t, std::size_t, double, bool, const py::object&>(),
                      py::arg("rows"), py::arg("cols"), py::arg("alpha"),
                      py::arg("potentiation_only"), py::arg("initial")));
  m.def("mnist_load", &mnist_load, py::arg("dir"), py::arg("train_limit"), py::arg("test_limit"));
  m.def("mnist_default_dir", [] { return syncache::mnist::default_dir(); });

  m.def("perceptron", &perceptron, py::arg("kw"), py::arg("patterns"), py::arg("targets"));
  m.def("spiking", &spiking, py::arg("kw"));
  m.def("mlp", &mlp, py::arg("kw"));
  m.def("theory_perceptron", &theory_perceptron, py::arg("kw"));
  m.def("theory_transient", &theory_transient, py::arg("kw"));
  m.def("figure", &figure, py::arg("name"), py::arg("scale"), py::arg("out"), py::arg("threads"),
        py::arg("store"), py::arg("experiments"));
  m.def("figure_names", [] {
    std::vector<std::string> v;
    for (const auto& f : syncache::figure_registry()) v.push_back(f.name);
    return v;
  });
  m.def("sweep", &sweep, py::arg("text"), py::arg("source"), py::arg("threads"), py::arg("store"));
  m.def("rule_names", [] { return syncache::rule_names(syncache::kMlp, ",", true); });

  py::dict tables;
  tables["perceptron"] = table(syncache::perceptron_parameters());
  tables["spiking"] = table(syncache::spiking::spiking_parameters());
  tables["mlp"] = table(syncache::mlp_parameters());
  tables["training"] = table(syncache::training_parameters());
  tables["mlp_data"] = table(syncache::commands::mlp_data_parameters());
  tables["theory_perceptron"] = table(syncache::commands::theory_perceptron_parameters());
  tables["theory_transient"] = table(syncache::commands::theory_transient_parameters());
  m.attr("tables") = tables;
}

// Pattern sets: random +-1 patterns, the zero-mean variant and the CSV reader
// (include/syncache/models/patterns.hpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <pcg_random.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "syncache/models/patterns.hpp"

namespace syncache {
namespace {

// Every input, the bias and the padding of two sets are equal, and so are the targets.
template <class X>
bool same_patterns(const PatternSet<X>& a, const PatternSet<X>& b) {
  if (a.N() != b.N() || a.P() != b.P() || a.stride() != b.stride()) return false;
  for (std::size_t p = 0; p < a.P(); ++p) {
    if (a.target(p) != b.target(p)) return false;
    for (std::size_t i = 0; i < a.stride(); ++i) {
      if (a.row(p)[i] != b.row(p)[i]) return false;
    }
  }
  return true;
}

// ------------------------------------------------------------------ random_patterns

TEST(PatternRandom, SameSeedGivesSamePatterns) {
  const auto a = random_patterns(100, 80, 42);
  const auto b = random_patterns(100, 80, 42);
  EXPECT_TRUE(same_patterns(a, b));
}

TEST(PatternRandom, DifferentSeedsGiveDifferentPatterns) {
  const auto a = random_patterns(100, 80, 1);
  const auto b = random_patterns(100, 80, 2);
  std::size_t differing_inputs = 0, differing_targets = 0;
  for (std::size_t p = 0; p < a.P(); ++p) {
    differing_targets += a.target(p) != b.target(p);
    for (std::size_t i = 0; i < a.N(); ++i) differing_inputs += a.row(p)[i] != b.row(p)[i];
  }
  // Independent sets differ in about half of the 8000 inputs and 80 targets.
  EXPECT_GT(differing_inputs, 3000u);
  EXPECT_GT(differing_targets, 20u);
}

TEST(PatternRandom, EntriesBiasAndPadding) {
  for (const std::size_t N : {1u, 5u, 62u, 63u, 64u, 100u}) {
    SCOPED_TRACE("N = " + std::to_string(N));
    const auto set = random_patterns(N, 30, 7);
    ASSERT_EQ(set.N(), N);
    ASSERT_EQ(set.P(), 30u);
    EXPECT_EQ(set.stride() % 64, 0u);
    EXPECT_GE(set.stride(), N + 1);
    EXPECT_LT(set.stride(), N + 1 + 64);
    for (std::size_t p = 0; p < set.P(); ++p) {
      const std::int8_t* x = set.row(p);
      for (std::size_t i = 0; i < N; ++i) {
        ASSERT_TRUE(x[i] == 1 || x[i] == -1) << "p = " << p << ", i = " << i;
      }
      EXPECT_EQ(x[N], 1) << "bias of pattern " << p;
      for (std::size_t i = N + 1; i < set.stride(); ++i) {
        ASSERT_EQ(x[i], 0) << "padding at p = " << p << ", i = " << i;
      }
      EXPECT_TRUE(set.target(p) == 1 || set.target(p) == -1) << "target of pattern " << p;
    }
  }
}

TEST(PatternRandom, FollowsTheDocumentedBitStream) {
  // pcg32(seed, stream 0); per pattern N input bits then the target bit, least
  // significant bit of each 32-bit output first; bit 1 -> +1, bit 0 -> -1. Read here one
  // bit at a time; shapes whose N + 1 bits start and end anywhere in a 32-bit output
  // (N + 1 = 2, 31, 32, 33, 46, 64, 1001), one pattern and several.
  for (const std::size_t N : {1u, 30u, 31u, 32u, 45u, 63u, 1000u}) {
    for (const std::size_t P : {1u, 20u}) {
      SCOPED_TRACE("N = " + std::to_string(N) + ", P = " + std::to_string(P));
      const std::uint64_t seed = 123 + N;
      const auto set = random_patterns(N, P, seed);
      pcg32 rng(seed, 0);
      std::uint32_t word = 0;
      int left = 0;
      auto next = [&]() {
        if (left == 0) {
          word = rng();
          left = 32;
        }
        const int v = (word & 1u) ? 1 : -1;
        word >>= 1;
        --left;
        return v;
      };
      for (std::size_t p = 0; p < P; ++p) {
        for (std::size_t i = 0; i < N; ++i)
          ASSERT_EQ(set.row(p)[i], next()) << "p = " << p << ", i = " << i;
        ASSERT_EQ(set.target(p), next()) << "target of pattern " << p;
        ASSERT_EQ(set.row(p)[N], 1) << "bias of pattern " << p;
        for (std::size_t i = N + 1; i < set.stride(); ++i) ASSERT_EQ(set.row(p)[i], 0);
      }
    }
  }
}

TEST(PatternRandom, InputsAndTargetsAreBalanced) {
  // Each +-1 is +1 with probability 1/2: the fraction of +1 among n draws has standard
  // error sqrt(0.5 * 0.5 / n), i.e. 5e-4 for the 10^6 inputs and 0.0158 for 1000 targets.
  const std::size_t N = 1000, P = 1000;
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed = " + std::to_string(seed));
    const auto set = random_patterns(N, P, seed);
    std::size_t pos_inputs = 0, pos_targets = 0;
    for (std::size_t p = 0; p < P; ++p) {
      for (std::size_t i = 0; i < N; ++i) pos_inputs += set.row(p)[i] == 1;
      pos_targets += set.target(p) == 1;
    }
    const double n_inputs = static_cast<double>(N * P), n_targets = static_cast<double>(P);
    const double se_inputs = std::sqrt(0.25 / n_inputs), se_targets = std::sqrt(0.25 / n_targets);
    EXPECT_NEAR(static_cast<double>(pos_inputs) / n_inputs, 0.5, 4.0 * se_inputs);
    EXPECT_NEAR(static_cast<double>(pos_targets) / n_targets, 0.5, 4.0 * se_targets);
  }
}

TEST(PatternRandom, InputCountsMatchARecount) {
  const auto set = random_patterns(70, 50, 9);
  for (std::size_t p = 0; p < set.P(); ++p) {
    std::int64_t pos = 0, neg = 0;
    for (std::size_t i = 0; i < set.stride(); ++i) {  // the bias (+1) is counted too
      pos += set.row(p)[i] == 1;
      neg += set.row(p)[i] == -1;
    }
    const Input<std::int8_t> in = set.input(p);
    EXPECT_EQ(in.x, set.row(p));
    EXPECT_EQ(in.n, set.stride());
    EXPECT_EQ(in.n_pos, pos) << "pattern " << p;
    EXPECT_EQ(in.n_neg, neg) << "pattern " << p;
    EXPECT_EQ(in.n_pos + in.n_neg, 71) << "pattern " << p;  // N inputs and the bias
  }
}

TEST(PatternRandom, RejectsZeroSizes) {
  EXPECT_THROW(random_patterns(0, 10, 1), std::invalid_argument);
  EXPECT_THROW(random_patterns(10, 0, 1), std::invalid_argument);
}

// ------------------------------------------------------------------------ zero_mean

TEST(PatternZeroMean, InputsHaveMeanZeroAndBiasStaysOne) {
  // N P odd, so the mean of the +-1 inputs cannot be 0 before the subtraction.
  const std::size_t N = 101, P = 37;
  const auto in = random_patterns(N, P, 5);
  const auto out = zero_mean(in);
  ASSERT_EQ(out.N(), N);
  ASSERT_EQ(out.P(), P);
  ASSERT_EQ(out.stride(), in.stride());
  double in_sum = 0.0;
  for (std::size_t p = 0; p < P; ++p)
    for (std::size_t i = 0; i < N; ++i) in_sum += in.row(p)[i];
  const double in_mean = in_sum / static_cast<double>(N * P);
  ASSERT_NE(in_mean, 0.0);

  double sum = 0.0;
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t i = 0; i < N; ++i) {
      sum += out.row(p)[i];
      EXPECT_NEAR(out.row(p)[i], in.row(p)[i] - in_mean, 1e-15);
    }
    EXPECT_EQ(out.row(p)[N], 1.0) << "bias of pattern " << p;
    for (std::size_t i = N + 1; i < out.stride(); ++i) EXPECT_EQ(out.row(p)[i], 0.0);
    EXPECT_EQ(out.target(p), in.target(p));
  }
  EXPECT_NEAR(sum / static_cast<double>(N * P), 0.0, 1e-12);
}

TEST(PatternZeroMean, LargeSetMeanIsZero) {
  const std::size_t N = 1000, P = 1000;
  const auto out = zero_mean(random_patterns(N, P, 11));
  double sum = 0.0;
  for (std::size_t p = 0; p < P; ++p) {
    for (std::size_t i = 0; i < N; ++i) sum += out.row(p)[i];
    ASSERT_EQ(out.row(p)[N], 1.0) << "bias of pattern " << p;
  }
  EXPECT_NEAR(sum / static_cast<double>(N * P), 0.0, 1e-12);
}

// ---------------------------------------------------------------- read_patterns_csv

class PatternCsv : public ::testing::Test {
 protected:
  // Writes `content` byte for byte to a file under the GoogleTest temp dir.
  std::string write(const std::string& content) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string path = ::testing::TempDir() + "syncache_" + info->test_suite_name() + "_" +
                             info->name() + "_" + std::to_string(::getpid()) + "_" +
                             std::to_string(files_.size()) + ".csv";
    std::ofstream out(path, std::ios::binary);
    out << content;
    out.close();
    EXPECT_TRUE(out) << "cannot write " << path;
    files_.push_back(path);
    return path;
  }

  void TearDown() override {
    for (const auto& f : files_) {
      std::error_code ec;
      std::filesystem::remove(f, ec);
    }
  }

  // The reader's std::invalid_argument message for `path` ("" if it does not throw).
  static std::string error_of(const std::string& path) {
    try {
      (void)read_patterns_csv(path);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  }

  std::vector<std::string> files_;
};

TEST_F(PatternCsv, ValidFileRoundTripsExactly) {
  const auto set = read_patterns_csv(write("0.25,-3e-2,1\n-1,2.5e3,-1\n0.1,1e-300,1\n"));
  ASSERT_EQ(set.N(), 2u);
  ASSERT_EQ(set.P(), 3u);
  const double want[3][2] = {{0.25, -3e-2}, {-1.0, 2.5e3}, {0.1, 1e-300}};
  const int targets[3] = {1, -1, 1};
  for (std::size_t p = 0; p < 3; ++p) {
    EXPECT_EQ(set.row(p)[0], want[p][0]) << "pattern " << p;
    EXPECT_EQ(set.row(p)[1], want[p][1]) << "pattern " << p;
    EXPECT_EQ(set.row(p)[2], 1.0) << "bias of pattern " << p;
    for (std::size_t i = 3; i < set.stride(); ++i) EXPECT_EQ(set.row(p)[i], 0.0);
    EXPECT_EQ(set.target(p), targets[p]);
  }
}

TEST_F(PatternCsv, CommentsAndBlankLinesAreSkipped) {
  const auto set =
      read_patterns_csv(write("# N = 3\n\n1,2,3,1\n   \n# another comment\n-4,-5,-6,-1\n\n"));
  ASSERT_EQ(set.N(), 3u);
  ASSERT_EQ(set.P(), 2u);
  EXPECT_EQ(set.row(0)[0], 1.0);
  EXPECT_EQ(set.row(0)[2], 3.0);
  EXPECT_EQ(set.row(1)[1], -5.0);
  EXPECT_EQ(set.row(1)[3], 1.0);  // bias
  EXPECT_EQ(set.target(0), 1);
  EXPECT_EQ(set.target(1), -1);
}

TEST_F(PatternCsv, CrlfIsAccepted) {
  const auto lf = read_patterns_csv(write("# c\n0.5,-2,1\n\n3,0.125,-1\n"));
  const auto crlf = read_patterns_csv(write("# c\r\n0.5,-2,1\r\n\r\n3,0.125,-1\r\n"));
  EXPECT_TRUE(same_patterns(lf, crlf));
  EXPECT_EQ(crlf.row(1)[1], 0.125);
  EXPECT_EQ(crlf.target(1), -1);
}

TEST_F(PatternCsv, MissingFileNamesThePath) {
  const std::string path = ::testing::TempDir() + "syncache_no_such_file.csv";
  EXPECT_THROW(read_patterns_csv(path), std::invalid_argument);
  EXPECT_NE(error_of(path).find(path), std::string::npos) << error_of(path);
}

TEST_F(PatternCsv, EmptyFileIsAnError) {
  for (const std::string content : {"", "# only a comment\n\n"}) {
    const std::string path = write(content);
    EXPECT_THROW(read_patterns_csv(path), std::invalid_argument);
    EXPECT_NE(error_of(path).find(path), std::string::npos) << error_of(path);
  }
}

TEST_F(PatternCsv, BadLinesNameThePathAndLine) {
  struct Case {
    const char* what;
    const char* content;
    int line;
  };
  const Case cases[] = {
      {"ragged line", "1,2,1\n3,4,-1\n5,1\n", 3},
      {"ragged line, longer", "1,2,1\n3,4,5,-1\n", 2},
      {"non-numeric value", "1,2,1\n1,abc,-1\n", 2},
      {"trailing junk", "1,2x,1\n", 1},
      {"empty field", "1,,1\n", 1},
      {"target 0", "1,2,1\n1,2,0\n", 2},
      {"target 2", "# header\n\n1,2,2\n", 3},  // comments and blank lines still count
      {"non-numeric target", "1,2,yes\n", 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = write(c.content);
    EXPECT_THROW(read_patterns_csv(path), std::invalid_argument);
    const std::string msg = error_of(path);
    const std::string tag = path + ":" + std::to_string(c.line) + ":";
    EXPECT_NE(msg.find(tag), std::string::npos) << "message '" << msg << "' lacks '" << tag << "'";
  }
}

}  // namespace
}  // namespace syncache

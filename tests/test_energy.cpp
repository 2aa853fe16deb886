// Energy cost function (docs/model.md section 1, paper Eq. 1), checked against hand values.
#include <gtest/gtest.h>

#include "syncache/core/energy.hpp"

namespace syncache {
namespace {

TEST(ChangeCost, AlphaOneIsAbsoluteValue) {
  ChangeCost c(1.0);
  EXPECT_DOUBLE_EQ(c(2.5), 2.5);
  EXPECT_DOUBLE_EQ(c(-2.5), 2.5);
  EXPECT_DOUBLE_EQ(c(0.0), 0.0);
  EXPECT_TRUE(c.is_absolute());
}

TEST(ChangeCost, AlphaZeroCountsNonZeroChanges) {
  ChangeCost c(0.0);
  EXPECT_DOUBLE_EQ(c(1e-9), 1.0);
  EXPECT_DOUBLE_EQ(c(-7.0), 1.0);
  EXPECT_DOUBLE_EQ(c(0.0), 0.0);  // no change, no cost
}

TEST(ChangeCost, AlphaTwoAndFractional) {
  EXPECT_DOUBLE_EQ(ChangeCost(2.0)(-3.0), 9.0);
  EXPECT_DOUBLE_EQ(ChangeCost(0.5)(4.0), 2.0);   // 4^0.5
  EXPECT_DOUBLE_EQ(ChangeCost(1.5)(-4.0), 8.0);  // 4^1.5
  // Beyond the paper's range, up to kMaxAlpha = 4: 2^3 = 8, 3^4 = 81, 4^2.5 = 32.
  EXPECT_DOUBLE_EQ(ChangeCost(3.0)(-2.0), 8.0);
  EXPECT_DOUBLE_EQ(ChangeCost(4.0)(3.0), 81.0);
  EXPECT_DOUBLE_EQ(ChangeCost(2.5)(4.0), 32.0);
}

TEST(ChangeCost, PotentiationOnlyChargesIncreasesOnly) {
  ChangeCost c(1.0, true);
  EXPECT_DOUBLE_EQ(c(3.0), 3.0);
  EXPECT_DOUBLE_EQ(c(-3.0), 0.0);
  EXPECT_FALSE(c.is_absolute());
  EXPECT_DOUBLE_EQ(ChangeCost(2.0, true)(2.0), 4.0);
}

TEST(ChangeCost, RejectsAlphaOutsideRange) {
  EXPECT_THROW(ChangeCost(-0.1), std::invalid_argument);
  EXPECT_NO_THROW(ChangeCost(4.0));
  EXPECT_THROW(ChangeCost(4.01), std::invalid_argument);
}

TEST(EnergyTally, TotalIsTheSumOfItsTerms) {
  // total() = consolidation + maintenance + change + pending, in that order (docs/model.md
  // section 1); classic, minimal and the counts are not part of it.
  EnergyTally e;
  EXPECT_EQ(e.total(), 0.0);
  e.classic = 100;  // what learning without caching costs: not part of the cached total
  e.minimal = 50;
  e.updates = 7;
  e.consolidation_events = 3;
  EXPECT_EQ(e.total(), 0.0);
  e.consolidation = 1.5;
  EXPECT_EQ(e.total(), 1.5);
  e.maintenance = 0.25;
  EXPECT_EQ(e.total(), 1.75);
  e.change = 2.0;
  EXPECT_EQ(e.total(), 3.75);
  e.pending = 0.125;
  EXPECT_EQ(e.total(), 3.875);
  // The order of the sum is fixed, so the number is reproducible to the last bit.
  e = EnergyTally{};
  e.consolidation = 0.1;
  e.maintenance = 0.2;
  e.change = 0.3;
  e.pending = 0.4;
  EXPECT_EQ(e.total(), ((0.1 + 0.2) + 0.3) + 0.4);
  // A result moves pending into consolidation; the total stays the same (here exactly:
  // with maintenance and change 0 the two sums are the same additions).
  EnergyTally snapshot;
  snapshot.consolidation = 11.083450302178925;
  snapshot.pending = 1.2428701339260313;
  EnergyTally final_result = snapshot;
  final_result.consolidation += final_result.pending;
  final_result.pending = 0.0;
  EXPECT_EQ(final_result.total(), snapshot.total());
}

}  // namespace
}  // namespace syncache

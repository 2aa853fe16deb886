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
  EXPECT_THROW(ChangeCost(2.01), std::invalid_argument);
}

TEST(EnergyTally, TotalIsConsolidationMaintenanceAndChange) {
  EnergyTally e;
  e.classic = 100;  // not part of the cached total
  e.consolidation = 1.5;
  e.maintenance = 0.25;
  e.change = 2.0;
  EXPECT_DOUBLE_EQ(e.total(), 3.75);
}

}  // namespace
}  // namespace syncache

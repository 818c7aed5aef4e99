// Synthetic toolmarks with ground truth (see datasets/synthetic.md for what
// every parameter models). Engine code: in-memory surfaces; deterministic for
// (options, index), so scans can be generated in parallel in any order.
#pragma once

#include <cstdint>
#include <string>

#include "toolmark/engine/registry.h"
#include "toolmark/engine/surface.h"

namespace toolmark {

enum class SynthDifficulty { kEasy, kRealistic, kHard };
/// "easy", "realistic", "hard"; throws toolmark::Error otherwise.
SynthDifficulty ParseSynthDifficulty(const std::string& text);

struct SynthOptions {
  Kind kind = Kind::kCartridgeCase;
  int firearms = 10;
  int per_firearm = 2;  ///< shots (cartridge cases or bullets) per firearm
  std::uint64_t seed = 1;
  SynthDifficulty difficulty = SynthDifficulty::kRealistic;
  int size = 0;   ///< points a side (cartridge) / along the land (bullet); 0 = default
  int lands = 6;  ///< bullets: lands per barrel
  /// Throws toolmark::Error on out-of-range values.
  void Check() const;
};

/// One generated scan and its ground truth (the dataset convention's columns).
struct SynthScan {
  std::string file;     ///< e.g. "cc-f003-s1.x3p", "bu-f003-b1-l2.x3p"
  std::string firearm;  ///< ground truth
  Kind kind = Kind::kCartridgeCase;
  std::vector<Mark> marks;  ///< the truth file's mark cell: MarkName of each, ';'-separated
  std::string bullet;       ///< bullets only
  int land = 0;             ///< bullets only: land index on this bullet, 1-based
  std::string land_id;      ///< bullets only: physical land of the barrel
  Surface surface;
};

/// Number of scans the options describe.
int SynthScanCount(const SynthOptions& options);
/// Scan `index` (0 ≤ index < SynthScanCount).
SynthScan GenerateSynthScan(const SynthOptions& options, int index);

}  // namespace toolmark

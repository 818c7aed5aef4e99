// The JSON of comparison results: land signatures and features, the CMC's
// directions and cells, firing-pin comparisons, a cartridge case's regions.
// Field names are part of toolmark compare --json (ARCHITECTURE.md).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "toolmark/engine/cmc.h"
#include "toolmark/engine/firing_pin.h"
#include "toolmark/engine/land.h"

namespace toolmark::review {

/// Numbers with NaN as null.
nlohmann::json ValuesJson(const std::vector<double>& v);
/// A land signature's extent, shoulders, crosscut and stability; with
/// `with_values`, the signature and profile themselves (µm, null = missing).
nlohmann::json LandSignatureJson(const LandSignature& s, bool with_values);
/// Land-to-land features by name, with lag_um and overlap_um.
nlohmann::json LandFeaturesJson(const LandFeatures& f);
/// One direction of a CMC comparison: registration, count, every cell.
nlohmann::json CmcDirectionJson(const CmcDirection& d);
/// A firing-pin comparison: compared or why not, sectors both ways.
nlohmann::json FiringPinComparisonJson(const FiringPinComparison& fp);
/// A cartridge case's regions: primer edge, firing-pin hole and impression.
nlohmann::json CartridgeRoiJson(const CartridgeCase& item);

}  // namespace toolmark::review

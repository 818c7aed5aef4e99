// Fuzz target: evidence packages (toolmark import) through ParsePackage —
// the zip container, the manifest (JSON), the signature, the file list and
// hashes, the item records, the feature files and the X3P scans. Each input
// is parsed twice: as it is (mutations rarely keep a valid signature) and
// with its manifest signed again by the trusted test key, so that mutated
// manifests, records and files reach the parsing behind the signature check.
// Any exception other than toolmark::Error escapes and counts as a finding.
#include <sodium.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_seeds.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/exchange/package.h"
#include "toolmark/index/search.h"
#include "toolmark/ingest/x3p.h"
#include "toolmark/ingest/zip_archive.h"

namespace {

using toolmark::exchange::KeyPair;
using json = nlohmann::json;

/// The sender's key, from a fixed seed (deterministic seeds and runs).
const KeyPair& SenderKey() {
  static const KeyPair key = [] {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init");
    KeyPair k;
    k.public_key.resize(crypto_sign_PUBLICKEYBYTES);
    k.secret_key.resize(crypto_sign_SECRETKEYBYTES);
    unsigned char seed[crypto_sign_SEEDBYTES] = {7};
    crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(k.public_key.data()),
                             reinterpret_cast<unsigned char*>(k.secret_key.data()), seed);
    return k;
  }();
  return key;
}

const toolmark::exchange::PackageContext& Context() {
  static const toolmark::exchange::PackageContext ctx{
      "DE", {{"NL", toolmark::exchange::Hex(SenderKey().public_key), ""}}};
  return ctx;
}

void Parse(const std::string& bytes) {
  try {
    toolmark::exchange::ParsePackage(bytes, "fuzz", Context());
  } catch (const toolmark::Error&) {
  }
}

/// The package's entries with manifest.sig replaced by a valid signature of
/// its manifest.json; empty when the bytes are not a readable zip.
std::string Resigned(const std::string& bytes) {
  try {
    const toolmark::ingest::ZipReader zip(bytes, 64);
    if (!zip.Has("manifest.json")) return "";
    std::vector<std::pair<std::string, std::string>> entries;
    for (const std::string& n : zip.Names()) {
      if (n == "manifest.sig") continue;
      entries.emplace_back(n, zip.ReadAtMost(n, 1 << 20));
    }
    const std::string manifest = zip.ReadAtMost("manifest.json", 1 << 20);
    entries.emplace_back("manifest.sig",
                         toolmark::exchange::Hex(toolmark::exchange::Sign(SenderKey(), manifest)));
    return toolmark::ingest::BuildZip(entries, {});
  } catch (const toolmark::Error&) {
    return "";
  }
}

/// A valid package of one item, NL → DE, at `level`.
std::string Package(const std::string& level) {
  const toolmark::Surface s = toolmark::fuzz::SmallSurface(12, 10);
  std::vector<std::pair<std::string, std::string>> files;
  const json features = json::array({{{"mark", "breech_face"},
                                      {"comparator", "cmc"},
                                      {"version", toolmark::index::FeatureVersion("cmc")},
                                      {"vector", std::vector<float>{0.5f, -0.25f, 0.125f}}}});
  files.emplace_back("items/0/features.json", features.dump());
  json item = {{"origin_item", 1},
               {"features", "items/0/features.json"},
               {"record",
                {{"case", "NL-1"},
                 {"label", "TF1"},
                 {"jurisdiction", "NL"},
                 {"kind", "cartridge_case"},
                 {"role", "reference"},
                 {"marks", {"breech_face"}},
                 {"class", {{"caliber", "9mm"}, {"firing_pin_shape", ""}, {"lands", 0}, {"twist", ""}}},
                 {"firearm", {{"make", ""}, {"model", ""}, {"serial", ""}}},
                 {"file", "tf1.x3p"},
                 {"sha256", std::string(64, 'a')},
                 {"format", "x3p"},
                 {"instrument", ""},
                 {"surface_kind", "height"},
                 {"spacing_x_um", 1.5},
                 {"spacing_y_um", 1.5},
                 {"size_x", 12},
                 {"size_y", 10},
                 {"valid_fraction", 0.9},
                 {"ingested_at", "2026-11-29T12:00:00Z"},
                 {"toolmark_version", "0.2.0"}}}};
  if (level == "scans") {
    files.emplace_back("items/0/scan.x3p", toolmark::ingest::WriteX3pBytes(s));
    item["scan"] = "items/0/scan.x3p";
  }
  json manifest = {{"format", "toolmark-package"},
                   {"format_version", 1},
                   {"package_id", std::string(32, '1')},
                   {"from", "NL"},
                   {"to", "DE"},
                   {"created_at", "2026-11-29T12:00:00.000Z"},
                   {"toolmark_version", "0.2.0"},
                   {"level", level},
                   {"signer", toolmark::exchange::Hex(SenderKey().public_key)},
                   {"feature_versions",
                    {{"cmc", toolmark::index::FeatureVersion("cmc")},
                     {"cmc_quick", toolmark::index::QuickFeatureVersion("cmc")},
                     {"land", toolmark::index::FeatureVersion("land")}}},
                   {"items", json::array({item})},
                   {"files", json::array()}};
  for (const auto& [name, bytes] : files)
    manifest["files"].push_back(
        {{"path", name}, {"sha256", toolmark::base::Sha256Hex(bytes)}, {"bytes", bytes.size()}});
  const std::string text = manifest.dump(1);
  std::vector<std::pair<std::string, std::string>> all = {
      {"manifest.json", text},
      {"manifest.sig", toolmark::exchange::Hex(toolmark::exchange::Sign(SenderKey(), text))}};
  all.insert(all.end(), files.begin(), files.end());
  return toolmark::ingest::BuildZip(all, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  Parse(bytes);
  const std::string resigned = Resigned(bytes);
  if (!resigned.empty()) Parse(resigned);
  return 0;
}

std::vector<std::string> ToolmarkFuzzSeeds() {
  // Both valid seeds must parse (else the target would only fuzz refusals).
  for (const char* level : {"features", "scans"})
    toolmark::exchange::ParsePackage(Package(level), level, Context());
  return {Package("features"), Package("scans")};
}

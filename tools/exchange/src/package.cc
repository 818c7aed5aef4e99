// Signed evidence packages: export, parse and verify, import.
#include "toolmark/exchange/package.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "internal.h"
#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/base/time.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/registry.h"
#include "toolmark/engine/version.h"
#include "toolmark/index/search.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/x3p.h"
#include "toolmark/ingest/zip_archive.h"

namespace toolmark::exchange {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace detail;  // NOLINT(build/namespaces): the library's own helpers

/// The feature versions a package carries: those of each kind's search
/// comparator (the features it exports), "<name>_quick" for its quick features.
json OurFeatureVersions() {
  json fv = json::object();
  for (const Kind kind : kKinds) {
    const ComparatorInfo& c = DefaultComparator(kind);
    fv[c.name] = index::FeatureVersion(c.name);
    if (c.quick_score) fv[c.name + "_quick"] = index::QuickFeatureVersion(c.name);
  }
  return fv;
}

/// Whether the search comparator `name` makes its screening features from
/// a prepared mark (so a receiver without the scan could not make them).
bool ScreensFromMark(const std::string& name) {
  static const std::map<std::string, bool> screens = [] {
    std::map<std::string, bool> m;
    for (const Kind kind : kKinds) {
      const std::string& comparator = DefaultComparator(kind).name;
      m[comparator] = MakeComparator(comparator)->ScreenNeedsMark();
    }
    return m;
  }();
  const auto it = screens.find(name);
  return it != screens.end() && it->second;
}

/// The item's stored features (all made again from its scan where one is
/// missing), with its stored screening features where its comparator
/// cannot make them without the scan.
std::vector<index::FeatureRecord> FeaturesOf(index::Database& db, const index::ItemRecord& it) {
  const std::string name = index::ComparatorForKind(it.kind);
  const Mark mark = index::FeatureMarkFor(it.kind);
  std::vector<std::string> versions = {index::FeatureVersion(name)};
  if (ComparatorNamed(name).quick_score) versions.push_back(index::QuickFeatureVersion(name));
  std::vector<index::FeatureRecord> out;
  for (const std::string& v : versions) {
    std::optional<index::FeatureRecord> f = db.Feature(it.id, mark, name, v);
    if (!f) {
      out = index::DerivedFeatures(it.kind, it.id, db.LoadSurface(it.id));
      return out;
    }
    out.push_back(std::move(*f));
  }
  if (ScreensFromMark(name))
    if (std::optional<index::FeatureRecord> f =
            db.Feature(it.id, mark, name, index::ScreenFeatureVersion(name)))
      out.push_back(std::move(*f));
  return out;
}

json ItemJson(const index::ItemRecord& it) {
  return {
      {"case", it.case_id},
      {"label", it.item_label},
      {"jurisdiction", it.jurisdiction},
      {"kind", KindName(it.kind)},
      {"role", it.role},
      {"marks", MarkNames(it.marks)},
      {"class",
       {{"caliber", it.class_marks.caliber},
        {"firing_pin_shape", it.class_marks.firing_pin_shape},
        {"lands", it.class_marks.lands},
        {"twist", it.class_marks.twist}}},
      {"firearm", {{"make", it.firearm.make}, {"model", it.firearm.model}, {"serial", it.firearm.serial}}},
      {"file", it.file},
      {"sha256", it.sha256},
      {"format", it.format},
      {"instrument", it.instrument},
      {"surface_kind", it.surface_kind},
      {"spacing_x_um", it.spacing_x_um},
      {"spacing_y_um", it.spacing_y_um},
      {"size_x", it.size_x},
      {"size_y", it.size_y},
      {"valid_fraction", it.valid_fraction},
      {"ingested_at", it.ingested_at},
      {"toolmark_version", it.toolmark_version},
      {"quality", it.quality.empty() ? json() : json::parse(it.quality, nullptr, false)}};
}

index::ItemRecord ItemFromJson(const json& j) {
  index::ItemRecord it;
  it.case_id = j.at("case").get<std::string>();
  it.item_label = j.at("label").get<std::string>();
  it.jurisdiction = j.at("jurisdiction").get<std::string>();
  it.kind = KindOf(j.at("kind").get<std::string>());
  it.role = j.at("role").get<std::string>();
  it.marks = MarksOf(j.at("marks").get<std::vector<std::string>>());
  const json& c = j.at("class");
  it.class_marks = {c.at("caliber").get<std::string>(), c.at("firing_pin_shape").get<std::string>(),
                    c.at("lands").get<int>(), c.at("twist").get<std::string>()};
  const json& f = j.at("firearm");
  it.firearm = {f.at("make").get<std::string>(), f.at("model").get<std::string>(),
                f.at("serial").get<std::string>(), ""};  // ground truth never travels
  it.file = j.at("file").get<std::string>();
  it.sha256 = j.at("sha256").get<std::string>();
  it.format = j.at("format").get<std::string>();
  it.instrument = j.at("instrument").get<std::string>();
  it.surface_kind = j.at("surface_kind").get<std::string>();
  it.spacing_x_um = j.at("spacing_x_um").get<double>();
  it.spacing_y_um = j.at("spacing_y_um").get<double>();
  it.size_x = j.at("size_x").get<int>();
  it.size_y = j.at("size_y").get<int>();
  it.valid_fraction = j.at("valid_fraction").get<double>();
  it.toolmark_version = j.at("toolmark_version").get<std::string>();
  if (j.contains("quality") && !j.at("quality").is_null())  // absent from packages before 0.3
    it.quality = ingest::QualityJson(ingest::QualityFromJson(j.at("quality"))).dump();
  Check(it.surface_kind == "height" || it.surface_kind == "intensity",
        "surface kind must be height or intensity");
  Check(std::isfinite(it.spacing_x_um) && it.spacing_x_um > 0 && std::isfinite(it.spacing_y_um) &&
            it.spacing_y_um > 0 && it.size_x >= 0 && it.size_y >= 0 && it.valid_fraction >= 0 &&
            it.valid_fraction <= 1,
        "bad spacing, size or valid fraction");
  return it;
}

}  // namespace

std::string ExportPackage(index::Database& db, const ExportRequest& request, const std::string& out) {
  InitSodium();
  Check(request.level == "features" || request.level == "scans", "export: --level must be features or scans");
  Check(!request.items.empty(), "export: no items given");
  Check(request.items.size() <= kMaxItems, "export: at most 20,000 items a package");
  const KeyPair key = LoadKeyPair(db.folder());
  const std::string home = HomeJurisdiction(db);
  Check(request.to != home, "export: --to " + request.to + " is this database's own jurisdiction");
  const auto origins = db.Origins();
  std::string raw_id(16, '\0');
  randombytes_buf(raw_id.data(), raw_id.size());
  json manifest = {{"format", kFormat},
                   {"format_version", kFormatVersion},
                   {"package_id", Hex(raw_id)},
                   {"from", home},
                   {"to", request.to},
                   {"created_at", NowIso()},
                   {"toolmark_version", Version()},
                   {"level", request.level},
                   {"signer", Hex(key.public_key)},
                   {"feature_versions", OurFeatureVersions()},
                   {"items", json::array()},
                   {"files", json::array()}};
  std::vector<std::pair<std::string, std::string>> files;
  std::set<index::ItemId> seen;
  for (index::ItemId id : request.items) {
    Check(seen.insert(id).second, "export: item " + std::to_string(id) + " given twice");
    const std::optional<index::ItemRecord> it = db.Get(id);
    Check(it.has_value(), "export: item " + std::to_string(id) + ": no such item");
    Check(!origins.count(id) && it->jurisdiction == home,
          "export: item " + std::to_string(id) + " belongs to " + it->jurisdiction +
              "; only the jurisdiction that holds evidence can share it");
    const std::string dir = "items/" + std::to_string(manifest["items"].size()) + "/";
    json entry = {{"origin_item", id}, {"record", ItemJson(*it)}, {"features", dir + "features.json"}};
    json features = json::array();
    for (const index::FeatureRecord& f : FeaturesOf(db, *it))
      features.push_back({{"mark", MarkName(f.mark)},
                          {"comparator", f.comparator},
                          {"version", f.version},
                          {"vector", f.vector}});
    files.emplace_back(dir + "features.json", features.dump());
    if (request.level == "scans") {
      files.emplace_back(dir + "scan.x3p", ingest::WriteX3pBytes(db.LoadSurface(id)));
      entry["scan"] = dir + "scan.x3p";
    }
    manifest["items"].push_back(entry);
  }
  for (const auto& [name, bytes] : files)
    manifest["files"].push_back(
        {{"path", name}, {"sha256", base::Sha256Hex(bytes)}, {"bytes", bytes.size()}});
  const std::string manifest_text = manifest.dump(2);
  std::vector<std::pair<std::string, std::string>> all = {
      {"manifest.json", manifest_text}, {"manifest.sig", Hex(Sign(key, manifest_text)) + "\n"}};
  all.insert(all.end(), files.begin(), files.end());
  base::WriteFileAtomic(out, ingest::BuildZip(all, {}));
  db.Audit("export", std::nullopt,
           "package " + manifest["package_id"].get<std::string>() + " to " + request.to + " (" +
               request.level + "), " + std::to_string(request.items.size()) + " items");
  return manifest["package_id"];
}

namespace {

/// The manifest's text parsed as JSON; throws naming `path` when it is not JSON.
json ParseManifestJson(const std::string& manifest_text, const std::string& path) {
  try {
    return json::parse(manifest_text);
  } catch (const json::exception&) {
    Fail(path + ": manifest.json is not JSON");
  }
}

/// The package record a manifest declares, and its signer's raw public key.
struct ManifestHeader {
  index::PackageRecord pkg;
  std::string signer;
};

/// The manifest's format, package record and signer, checked for shape only (nothing is trusted yet).
ManifestHeader ReadManifestHeader(const json& m, const std::string& path) {
  ManifestHeader header;
  index::PackageRecord& pkg = header.pkg;
  try {
    Check(m.at("format").get<std::string>() == kFormat && m.at("format_version").get<int>() == kFormatVersion,
          "not a Toolmark package of format version 1");
    pkg.id = m.at("package_id").get<std::string>();
    pkg.from = m.at("from").get<std::string>();
    pkg.to = m.at("to").get<std::string>();
    pkg.level = m.at("level").get<std::string>();
    pkg.created_at = m.at("created_at").get<std::string>();
    pkg.signer_hex = m.at("signer").get<std::string>();
    header.signer = FromHex(pkg.signer_hex, crypto_sign_PUBLICKEYBYTES, "signer");
    FromHex(pkg.id, 16, "package_id");
  } catch (const json::exception& e) {
    Fail(path + ": manifest: " + e.what());
  } catch (const Error& e) {
    Fail(path + ": manifest: " + e.what());
  }
  return header;
}

/// Refuses a package whose manifest.sig is not `signer`'s Ed25519 signature of the manifest's exact bytes.
void CheckManifestSignature(const std::string& signer, const std::string& manifest_text,
                            const std::string& sig_hex, const std::string& path) {
  std::string signature;
  try {
    signature = FromHex(sig_hex, crypto_sign_BYTES, "manifest.sig");
  } catch (const Error&) {
    Fail(path + ": manifest.sig is not an Ed25519 signature: refused");
  }
  Check(VerifySignature(signer, manifest_text, signature),
        path + ": the signature does not verify: the package was changed after signing: refused");
}

/// Refuses a package signed by a key this database does not trust for the sending jurisdiction.
void CheckSignerTrusted(const index::PackageRecord& pkg, const std::vector<index::TrustedKey>& trusted_keys,
                        const std::string& path) {
  bool trusted = false;
  for (const index::TrustedKey& k : trusted_keys)
    trusted |= k.jurisdiction == pkg.from && k.public_key_hex == pkg.signer_hex;
  Check(trusted, path + ": signed by key " + pkg.signer_hex.substr(0, 16) +
                     "…, which this database does not trust for " + pkg.from +
                     " (toolmark keys trust): refused");
}

/// Refuses a package whose feature versions are not this Toolmark's: its features would not compare.
void CheckFeatureVersions(const json& fv, const std::string& path) {
  const json versions = OurFeatureVersions();
  for (const auto& [key, ours] : versions.items())
    Check(fv.contains(key) && fv[key].is_string() && fv[key] == ours,
          path + ": feature version " + (fv.contains(key) ? fv[key].dump() : std::string("(none)")) + " of " +
              key + " is not this Toolmark's " + ours.get<std::string>() +
              " (export it again with this version): refused");
}

/// The listed files by name, each present at its stated size and SHA-256; refuses any file not listed.
std::map<std::string, std::string> VerifiedFiles(const json& m, const ingest::ZipReader& zip,
                                                 const std::string& path) {
  std::map<std::string, std::string> contents;
  try {
    for (const json& f : m.at("files")) {
      const std::string name = f.at("path").get<std::string>();
      const std::size_t n = f.at("bytes").get<std::size_t>();
      Check(n <= kMaxFileBytes, "file " + name + " is larger than 1 GiB");
      Check(zip.Has(name), "file " + name + " is missing");
      std::string data = zip.ReadExact(name, n);
      Check(base::Sha256Hex(data) == f.at("sha256").get<std::string>(),
            "file " + name + ": its SHA-256 does not match the signed manifest (changed)");
      Check(contents.emplace(name, std::move(data)).second, "file " + name + " listed twice");
    }
    for (const std::string& name : zip.Names())
      Check(name == "manifest.json" || name == "manifest.sig" || contents.count(name),
            "file " + name + " is not in the signed manifest");
  } catch (const json::exception& e) {
    Fail(path + ": manifest: " + e.what() + ": refused");
  } catch (const Error& e) {
    Fail(path + ": " + e.what() + ": refused");
  }
  return contents;
}

/// One manifest item with its features (and scan) from the verified files; the caller names its errors.
index::ImportedItem ImportedItemFromJson(const json& e, const index::PackageRecord& pkg,
                                         const std::map<std::string, std::string>& contents) {
  index::ImportedItem in;
  in.item = ItemFromJson(e.at("record"));
  in.origin_item = e.at("origin_item").get<index::ItemId>();
  Check(in.item.jurisdiction == pkg.from,
        "item " + in.item.file + " is of " + in.item.jurisdiction + ", not of the sender " + pkg.from);
  const json features = json::parse(contents.at(e.at("features").get<std::string>()));
  for (const json& f : features) {
    index::FeatureRecord r;
    r.mark = MarkOf(f.at("mark").get<std::string>());
    r.comparator = f.at("comparator").get<std::string>();
    r.version = f.at("version").get<std::string>();
    r.vector = f.at("vector").get<std::vector<float>>();
    in.features.push_back(std::move(r));
  }
  if (pkg.level == "scans") {
    ingest::ReadOptions options;
    ingest::Scan scan = ingest::ReadX3pBytes(contents.at(e.at("scan").get<std::string>()), options);
    scan.surface.kind = in.item.surface_kind == "intensity" ? SurfaceKind::kIntensity : SurfaceKind::kHeight;
    in.surface = std::move(scan.surface);
  }
  return in;
}

/// The manifest's items (at most kMaxItems); throws naming `path` at the first bad one.
std::vector<index::ImportedItem> ImportedItems(const json& m, const index::PackageRecord& pkg,
                                               const std::map<std::string, std::string>& contents,
                                               const std::string& path) {
  std::vector<index::ImportedItem> items;
  try {
    Check(m.at("items").size() <= kMaxItems, "more than 20,000 items");
    for (const json& e : m.at("items")) items.push_back(ImportedItemFromJson(e, pkg, contents));
  } catch (const json::exception& e) {
    Fail(path + ": bad item in the package: " + e.what() + ": refused");
  } catch (const std::out_of_range&) {
    Fail(path + ": an item names a file that is not in the package: refused");
  } catch (const Error& e) {
    Fail(path + ": bad item in the package: " + OneLine(e.what()) + ": refused");
  }
  return items;
}

}  // namespace

ParsedPackage ParsePackage(const std::string& bytes, const std::string& path, const PackageContext& ctx) {
  InitSodium();
  const std::string& home = ctx.home;
  Check(bytes.size() <= kMaxPackageBytes, path + ": larger than 4 GiB: refused");
  std::optional<ingest::ZipReader> opened;
  try {
    opened.emplace(bytes, kMaxEntries);
  } catch (const Error& e) {
    Fail(path + ": " + e.what() + ": refused");
  }
  const ingest::ZipReader& zip = *opened;
  Check(zip.Has("manifest.json"), path + ": not a Toolmark package (no manifest.json)");
  Check(zip.Has("manifest.sig"), path + ": unsigned package (no manifest.sig): refused");
  const std::string manifest_text = zip.ReadAtMost("manifest.json", kMaxManifestBytes);
  const std::string sig_hex = Trimmed(zip.ReadAtMost("manifest.sig", 1024));
  const json m = ParseManifestJson(manifest_text, path);
  const ManifestHeader header = ReadManifestHeader(m, path);
  const index::PackageRecord& pkg = header.pkg;
  // 1. The signature, over the manifest's exact bytes (which hold every
  //    file's SHA-256).
  CheckManifestSignature(header.signer, manifest_text, sig_hex, path);
  // 2. The signer: a key this database trusts for the sending jurisdiction.
  CheckSignerTrusted(pkg, ctx.trusted, path);
  // 3. Addressed to us; compatible features; not seen before.
  Check(pkg.to == home, path + ": addressed to " + pkg.to + ", but this database is " + home + ": refused");
  CheckFeatureVersions(m.at("feature_versions"), path);
  // 4. Every file: listed, present, the size and SHA-256 the signed manifest says; nothing else.
  const std::map<std::string, std::string> contents = VerifiedFiles(m, zip, path);
  // 5. The items.
  std::vector<index::ImportedItem> items = ImportedItems(m, pkg, contents, path);
  return {pkg, std::move(items)};
}

ImportReport ImportPackageFile(index::Database& db, const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  Check(!ec, path + ": cannot read: " + ec.message());
  Check(size <= kMaxPackageBytes, path + ": larger than 4 GiB: refused");
  std::string bytes(size, '\0');
  {
    std::ifstream in(path, std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    Check(static_cast<std::size_t>(in.gcount()) == size, path + ": cannot read");
  }
  ParsedPackage parsed = ParsePackage(bytes, path, {HomeJurisdiction(db), db.TrustedKeys()});
  const index::PackageRecord& pkg = parsed.record;
  Check(!db.PackageImported(pkg.id),
        path + ": package " + pkg.id + " was imported already (replay): refused");
  ImportReport report;
  try {
    report.items = db.ImportPackage(pkg, parsed.items);
  } catch (const Error& e) {
    Fail(path + ": " + OneLine(e.what()) + ": refused, nothing imported");
  }
  report.package_id = pkg.id;
  report.from = pkg.from;
  report.level = pkg.level;
  return report;
}

}  // namespace toolmark::exchange

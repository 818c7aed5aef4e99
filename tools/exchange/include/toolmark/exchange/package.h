// Signed evidence packages between jurisdictions (docs/exchange.md): export,
// and verified, all-or-nothing import.
#pragma once

#include <string>
#include <vector>

#include "toolmark/exchange/keys.h"
#include "toolmark/index/database.h"

namespace toolmark::exchange {

struct ExportRequest {
  std::vector<index::ItemId> items;
  std::string to;                  ///< receiving jurisdiction
  std::string level = "features";  ///< "features" or "scans"
};
/// Writes a signed package of the items (own jurisdiction's only) to `out`
/// (atomically); returns the package id.
std::string ExportPackage(index::Database& db, const ExportRequest& request, const std::string& out);

/// What a package is checked against: the receiving jurisdiction and its trust list.
struct PackageContext {
  std::string home;
  std::vector<index::TrustedKey> trusted;
};
/// A verified package: its record and items, ready for Database::ImportPackage.
struct ParsedPackage {
  index::PackageRecord record;
  std::vector<index::ImportedItem> items;
};
/// Parses and verifies a package's bytes (everything but replay, which
/// needs the database): bounds, signature, trust, addressee, feature
/// versions, every file's size and SHA-256, the item records and scans.
/// Throws a one-line toolmark::Error naming `name` on any failure. The
/// input is hostile: this is the package fuzz target's entry point.
ParsedPackage ParsePackage(const std::string& bytes, const std::string& name, const PackageContext& context);

struct ImportReport {
  std::string package_id, from, level;
  std::vector<index::ItemId> items;
};
/// Verifies a package (signature against the trust list, every file's
/// SHA-256, addressee, feature versions, replay, bounds) and imports it in
/// one transaction; throws a one-line toolmark::Error, with nothing
/// changed, on any failure.
ImportReport ImportPackageFile(index::Database& db, const std::string& path);

}  // namespace toolmark::exchange

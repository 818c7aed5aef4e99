// Evidence exchange between jurisdictions (docs/exchange.md): the
// database's Ed25519 key pair (libsodium), API tokens, signed evidence
// packages (export, verified import) and signed partner requests.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "toolmark/index/database.h"

namespace toolmark::cli {

/// Lower-case hex, and back (throws toolmark::Error on bad input).
std::string Hex(const std::string& bytes);
std::string FromHex(const std::string& hex, std::size_t bytes, const std::string& what);

/// The database's signing key pair, in <db>/keys/ (secret key file mode 0600).
struct KeyPair {
  std::string public_key, secret_key;  ///< raw bytes (32, 64)
};
/// Creates the key pair (refuses when one exists). Returns it.
KeyPair CreateKeyPair(const std::string& db_folder);
/// Loads the key pair; throws a one-line error naming `toolmark keys init`.
KeyPair LoadKeyPair(const std::string& db_folder);
bool HasKeyPair(const std::string& db_folder);

/// Detached Ed25519 signature (raw bytes) of a message, and its check.
std::string Sign(const KeyPair& key, const std::string& message);
bool VerifySignature(const std::string& public_key, const std::string& message, const std::string& signature);

/// A new API token ("tm_" + 64 hex digits) and the SHA-256 (hex) that is stored.
std::string NewToken();
std::string TokenSha256(const std::string& token);

/// The database's home jurisdiction (setting "jurisdiction"); throws a
/// one-line error naming `toolmark keys init` when unset.
std::string HomeJurisdiction(index::Database& db);

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

/// A signed partner request: the body (JSON text) and its headers.
struct SignedRequest {
  std::string body, jurisdiction, signature_hex;
};
SignedRequest SignRequest(index::Database& db, const nlohmann::json& body);
/// Checks a partner request: a trusted key of the named jurisdiction signed
/// the body, and its "sent_at" is within 5 minutes of now. Returns the
/// parsed body; throws toolmark::Error (one line) otherwise.
nlohmann::json VerifyRequest(index::Database& db, const std::string& body, const std::string& jurisdiction,
                             const std::string& signature_hex);

}  // namespace toolmark::cli

// A jurisdiction's identity for evidence exchange (docs/exchange.md): the
// database's Ed25519 key pair (libsodium), API tokens, and signed partner
// requests (federated search).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "toolmark/index/database.h"

namespace toolmark::exchange {

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

}  // namespace toolmark::exchange

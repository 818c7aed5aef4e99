// Keys, tokens and signed partner requests.
#include "toolmark/exchange/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "internal.h"
#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/base/time.h"
#include "toolmark/engine/check.h"

namespace toolmark::exchange {
namespace detail {
namespace fs = std::filesystem;

void InitSodium() { Check(sodium_init() >= 0, "libsodium could not be initialised"); }

fs::path KeyDir(const std::string& db) { return fs::path(db) / "keys"; }

std::string ReadSmallFile(const fs::path& p, std::size_t max) {
  std::ifstream in(p, std::ios::binary);
  Check(in.good(), p.string() + ": cannot read");
  std::string s(max + 1, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<std::size_t>(in.gcount()));
  Check(s.size() <= max, p.string() + ": too large");
  return s;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

/// Every feature record an item's kind needs for searching, from the
/// database (computed from its scan where missing).
std::string NowIso() { return base::NowUtcMillis(); }

/// Seconds between an ISO 8601 UTC time ("2026-11-29T12:00:00[.123]Z") and now.
double SecondsFromNow(const std::string& iso) {
  std::tm tm{};
  Check(iso.size() >= 20 && strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr,
        "bad time '" + iso + "'");
  const std::time_t t = timegm(&tm);
  return std::difftime(t, std::time(nullptr));
}

}  // namespace detail

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace detail;  // NOLINT(build/namespaces): the library's own helpers

std::string Hex(const std::string& bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.pop_back();
  return out;
}

std::string FromHex(const std::string& hex, std::size_t bytes, const std::string& what) {
  Check(hex.size() == 2 * bytes && hex.find_first_not_of("0123456789abcdef") == std::string::npos,
        what + " must be " + std::to_string(2 * bytes) + " lower-case hex digits");
  std::string out(bytes, '\0');
  std::size_t n = 0;
  Check(sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), bytes, hex.data(), hex.size(), nullptr,
                       &n, nullptr) == 0 &&
            n == bytes,
        what + ": bad hex");
  return out;
}

bool HasKeyPair(const std::string& db) { return fs::exists(KeyDir(db) / "signing.key"); }

KeyPair CreateKeyPair(const std::string& db) {
  InitSodium();
  Check(!HasKeyPair(db), db + ": has a key pair already (keys/signing.key); refusing to replace it");
  KeyPair k;
  k.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  k.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(k.public_key.data()),
                      reinterpret_cast<unsigned char*>(k.secret_key.data()));
  std::error_code ec;
  fs::create_directories(KeyDir(db), ec);
  Check(!ec, KeyDir(db).string() + ": cannot create: " + ec.message());
  fs::permissions(KeyDir(db), fs::perms::owner_all, ec);
  // The secret key: created 0600, never readable by others, written durably.
  const fs::path secret = KeyDir(db) / "signing.key";
  const std::string text = Hex(k.secret_key) + "\n";
  const int fd = ::open(secret.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  Check(fd >= 0, secret.string() + ": cannot create");
  const bool ok =
      ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  Check(ok, secret.string() + ": cannot write");
  base::WriteFileAtomic((KeyDir(db) / "signing.pub").string(), Hex(k.public_key) + "\n");
  sodium_memzero(const_cast<char*>(text.data()), text.size());
  return k;
}

KeyPair LoadKeyPair(const std::string& db) {
  InitSodium();
  Check(HasKeyPair(db), db + ": no signing key (toolmark keys init --db " + db + " --jurisdiction NAME)");
  KeyPair k;
  k.secret_key = FromHex(Trimmed(ReadSmallFile(KeyDir(db) / "signing.key", 1024)), crypto_sign_SECRETKEYBYTES,
                         "keys/signing.key");
  k.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(k.public_key.data()),
                               reinterpret_cast<const unsigned char*>(k.secret_key.data()));
  return k;
}

std::string Sign(const KeyPair& key, const std::string& message) {
  InitSodium();
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(key.secret_key.data()));
  return sig;
}

bool VerifySignature(const std::string& public_key, const std::string& message,
                     const std::string& signature) {
  InitSodium();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

std::string NewToken() {
  InitSodium();
  std::string raw(32, '\0');
  randombytes_buf(raw.data(), raw.size());
  return "tm_" + Hex(raw);
}

std::string TokenSha256(const std::string& token) { return base::Sha256Hex(token); }

std::string HomeJurisdiction(index::Database& db) {
  const std::string j = db.Setting("jurisdiction");
  Check(!j.empty(), db.folder() + ": no home jurisdiction (toolmark keys init --db " + db.folder() +
                        " --jurisdiction NAME)");
  return j;
}

SignedRequest SignRequest(index::Database& db, const nlohmann::json& body) {
  json b = body;
  b["sent_at"] = NowIso();
  b["from"] = HomeJurisdiction(db);
  SignedRequest r;
  r.body = b.dump();
  r.jurisdiction = b["from"];
  r.signature_hex = Hex(Sign(LoadKeyPair(db.folder()), r.body));
  return r;
}

nlohmann::json VerifyRequest(index::Database& db, const std::string& body, const std::string& jurisdiction,
                             const std::string& signature_hex) {
  std::string signature;
  try {
    signature = FromHex(signature_hex, crypto_sign_BYTES, "signature");
  } catch (const Error&) {
    Fail("partner request: no valid signature");
  }
  bool ok = false;
  for (const index::TrustedKey& k : db.TrustedKeys())
    if (k.jurisdiction == jurisdiction &&
        VerifySignature(FromHex(k.public_key_hex, crypto_sign_PUBLICKEYBYTES, "key"), body, signature))
      ok = true;
  Check(ok, "partner request: not signed by a key trusted for " + jurisdiction.substr(0, 40));
  json b;
  try {
    b = json::parse(body);
  } catch (const json::exception&) {
    Fail("partner request: the body is not JSON");
  }
  Check(b.is_object() && b.value("from", "") == jurisdiction,
        "partner request: 'from' is not the signer's jurisdiction");
  Check(std::abs(SecondsFromNow(b.value("sent_at", ""))) <= kRequestWindowS,
        "partner request: sent_at is more than 5 minutes from now (replayed or clock skew)");
  return b;
}

}  // namespace toolmark::exchange

// Users and their tokens, trusted keys, shares, imported items' origins, the audit log.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog.h"
#include "database_impl.h"
#include "toolmark/engine/check.h"

namespace toolmark::index::detail {

namespace {

UserRecord UserFromRow(const Statement& q) {
  UserRecord u;
  u.name = q.Text(0);
  u.jurisdiction = q.Text(1);
  u.role = q.Text(2);
  u.created_at = q.Text(3);
  if (!q.IsNull(4)) u.revoked_at = q.Text(4);
  return u;
}

}  // namespace

bool IsName(const std::string& s) {
  return !s.empty() && s.size() <= 100 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@';
  });
}

void DatabaseImpl::AddUser(const UserRecord& user, const std::string& token_sha256) {
  Check(IsName(user.name), "user name '" + user.name + "' must be letters, digits, _ - . @ (at most 100)");
  Check(IsName(user.jurisdiction),
        "jurisdiction '" + user.jurisdiction + "' must be letters, digits, _ - . @");
  Check(IsRole(user.role), "role '" + user.role + "' must be technician, examiner, investigator or admin");
  Check(token_sha256.size() == 64, "token hash must be 64 hex digits");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement known(catalog_, "SELECT 1 FROM users WHERE name = ?");
    known.Bind(1, user.name);
    Check(!known.Step(), "user '" + user.name + "' exists already");
    Statement q(
        catalog_,
        "INSERT INTO users (name, jurisdiction, role, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)");
    q.Bind(1, user.name)
        .Bind(2, user.jurisdiction)
        .Bind(3, user.role)
        .Bind(4, token_sha256)
        .Bind(5, NowUtc());
    q.Step();
    catalog_.Audit("user", kInvalidItemId,
                   "added " + user.name + " (" + user.role + ", " + user.jurisdiction + ")");
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::optional<UserRecord> DatabaseImpl::UserByTokenHash(const std::string& token_sha256) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_,
              "SELECT name, jurisdiction, role, created_at, revoked_at FROM users WHERE token_sha256 = ? AND "
              "revoked_at IS NULL");
  q.Bind(1, token_sha256);
  if (!q.Step()) return std::nullopt;
  return UserFromRow(q);
}

std::vector<UserRecord> DatabaseImpl::Users() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_, "SELECT name, jurisdiction, role, created_at, revoked_at FROM users ORDER BY name");
  std::vector<UserRecord> out;
  while (q.Step()) out.push_back(UserFromRow(q));
  return out;
}

void DatabaseImpl::RevokeUser(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement q(catalog_, "UPDATE users SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL");
    q.Bind(1, NowUtc()).Bind(2, name).Step();
    Check(q.Changes() == 1, "user '" + name + "': no such user (or revoked already)");
    catalog_.Audit("user", kInvalidItemId, "revoked " + name);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

void DatabaseImpl::Trust(const TrustedKey& key) {
  Check(IsName(key.jurisdiction), "jurisdiction '" + key.jurisdiction + "' must be letters, digits, _ - . @");
  Check(key.public_key_hex.size() == 64 &&
            key.public_key_hex.find_first_not_of("0123456789abcdef") == std::string::npos,
        "public key must be 64 lower-case hex digits (Ed25519)");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement q(catalog_,
                "INSERT INTO trusted_keys (jurisdiction, public_key, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING");
    q.Bind(1, key.jurisdiction).Bind(2, key.public_key_hex).Bind(3, NowUtc()).Step();
    catalog_.Audit("trust", kInvalidItemId, key.jurisdiction + " " + key.public_key_hex);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

void DatabaseImpl::Untrust(const std::string& jurisdiction, const std::string& public_key_hex) {
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement q(catalog_, "DELETE FROM trusted_keys WHERE jurisdiction = ? AND public_key = ?");
    q.Bind(1, jurisdiction).Bind(2, public_key_hex).Step();
    Check(q.Changes() == 1, "key of " + jurisdiction + " is not trusted");
    catalog_.Audit("untrust", kInvalidItemId, jurisdiction + " " + public_key_hex);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::vector<TrustedKey> DatabaseImpl::TrustedKeys() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_,
              "SELECT jurisdiction, public_key, added_at FROM trusted_keys ORDER BY jurisdiction, added_at");
  std::vector<TrustedKey> out;
  while (q.Step()) out.push_back({q.Text(0), q.Text(1), q.Text(2)});
  return out;
}

namespace {
/// http(s)://HOST[:PORT], nothing after (no path, query, credentials or spaces).
bool IsEndpointUrl(const std::string& url) {
  std::string rest;
  for (const char* scheme : {"https://", "http://"})
    if (url.rfind(scheme, 0) == 0) rest = url.substr(std::string(scheme).size());
  if (rest.empty() || url.size() > 300) return false;
  return rest.find_first_of("/?#@ \t\r\n\\") == std::string::npos;
}
}  // namespace

void DatabaseImpl::SetPartnerEndpoint(const PartnerEndpoint& e) {
  Check(IsName(e.jurisdiction), "jurisdiction '" + e.jurisdiction + "' must be letters, digits, _ - . @");
  Check(IsEndpointUrl(e.url), "partner URL '" + e.url.substr(0, 80) + "' is not http(s)://HOST[:PORT]");
  Check(
      e.tls_cert_pem.size() <= 64 * 1024 &&
          (e.tls_cert_pem.empty() || e.tls_cert_pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos),
      "partner certificate: not one PEM certificate of at most 64 KB");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.InWrite([&] {
    Statement q(catalog_,
                "INSERT INTO partner_endpoints (jurisdiction, url, tls_cert_pem, added_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (jurisdiction) DO UPDATE SET url = excluded.url, "
                "tls_cert_pem = excluded.tls_cert_pem, added_at = excluded.added_at");
    q.Bind(1, e.jurisdiction).Bind(2, e.url).Bind(3, e.tls_cert_pem).Bind(4, NowUtc()).Step();
    catalog_.Audit("partner-endpoint", kInvalidItemId,
                   e.jurisdiction + " " + e.url + (e.tls_cert_pem.empty() ? "" : " (pinned certificate)"));
  });
}

std::vector<PartnerEndpoint> DatabaseImpl::PartnerEndpoints() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(
      catalog_,
      "SELECT jurisdiction, url, tls_cert_pem, added_at FROM partner_endpoints ORDER BY jurisdiction");
  std::vector<PartnerEndpoint> out;
  while (q.Step()) out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3)});
  return out;
}

void DatabaseImpl::Share(const std::vector<ItemId>& items, const std::string& jurisdiction) {
  Check(IsName(jurisdiction), "jurisdiction '" + jurisdiction + "' must be letters, digits, _ - . @");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    for (ItemId id : items) {
      Statement known(catalog_, "SELECT 1 FROM items WHERE id = ?");
      known.Bind(1, static_cast<std::int64_t>(id));
      Check(known.Step(), "item " + std::to_string(id) + ": no such item");
      Statement q(catalog_,
                  "INSERT INTO shares (item_id, jurisdiction, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
      q.Bind(1, static_cast<std::int64_t>(id)).Bind(2, jurisdiction).Bind(3, NowUtc()).Step();
      catalog_.Audit("share", id, "with " + jurisdiction);
    }
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::map<ItemId, std::vector<std::string>> DatabaseImpl::Shares() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_, "SELECT item_id, jurisdiction FROM shares ORDER BY item_id, jurisdiction");
  std::map<ItemId, std::vector<std::string>> out;
  while (q.Step()) out[q.Int(0)].push_back(q.Text(1));
  return out;
}

std::map<ItemId, ItemOrigin> DatabaseImpl::Origins() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_, "SELECT item_id, package_id, level, origin_item FROM imported_items");
  std::map<ItemId, ItemOrigin> out;
  while (q.Step()) out[q.Int(0)] = {q.Text(1), q.Text(2), q.Int(3)};
  return out;
}

void DatabaseImpl::Audit(const std::string& action, std::optional<ItemId> item, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    catalog_.Audit(action, item.value_or(kInvalidItemId), detail);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

}  // namespace toolmark::index::detail

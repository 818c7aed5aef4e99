// toolmark keys | users | share | export | import: the jurisdiction's key
// pair and trust list, API users, sharing, and signed evidence packages
// (docs/exchange.md).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/exchange/package.h"
#include "toolmark/exchange/tls.h"

namespace toolmark::cli {
using namespace exchange;  // NOLINT(build/namespaces): the command is a front end to the exchange library
namespace {

struct KeysArgs {
  std::string db, jurisdiction, key, action, url, tls_cert;
  bool json = false;
};

/// keys trust: the partner's key, and its endpoint (URL, pinned certificate) when given.
void TrustPartner(const KeysArgs& a, index::Database& db) {
  index::PartnerEndpoint endpoint{a.jurisdiction, WithoutTrailingSlash(a.url), "", ""};
  if (!a.url.empty()) {
    const EndpointUrl u = ParseEndpointUrl(a.url);
    Check(u.https || IsLoopbackHost(u.host), "keys trust --url " + a.url.substr(0, 80) +
                                                 ": plain HTTP beyond loopback is refused; use https://");
    if (!a.tls_cert.empty()) endpoint.tls_cert_pem = ReadCertificatePem(a.tls_cert);
    Check(u.https || endpoint.tls_cert_pem.empty(), "keys trust: --tls-cert needs an https:// --url");
  }
  db.Trust({a.jurisdiction, a.key, ""});
  if (!a.url.empty()) db.SetPartnerEndpoint(endpoint);
  std::printf("trusted: %s %s\n", a.jurisdiction.c_str(), a.key.c_str());
  if (!a.url.empty())
    std::printf("endpoint: %s%s\n", endpoint.url.c_str(),
                endpoint.tls_cert_pem.empty()
                    ? " (certificate checked against the system's trust store)"
                    : (" (pinned certificate SHA-256 " + CertificateFingerprint(endpoint.tls_cert_pem) + ")")
                          .c_str());
}

/// keys list: every trusted key, with its partner's endpoint.
int ListKeys(const KeysArgs& a, index::Database& db) {
  nlohmann::json out = nlohmann::json::array();
  const std::vector<index::PartnerEndpoint> endpoints = db.PartnerEndpoints();
  for (const index::TrustedKey& k : db.TrustedKeys()) {
    nlohmann::json row = {
        {"jurisdiction", k.jurisdiction}, {"public_key", k.public_key_hex}, {"added_at", k.added_at}};
    std::string where;
    for (const index::PartnerEndpoint& e : endpoints) {
      if (e.jurisdiction != k.jurisdiction) continue;
      const std::string pin = e.tls_cert_pem.empty() ? "" : CertificateFingerprint(e.tls_cert_pem);
      row["url"] = e.url;
      row["tls_cert_sha256"] = pin.empty() ? nlohmann::json(nullptr) : nlohmann::json(pin);
      where = "  " + e.url + (pin.empty() ? "" : " pinned " + pin);
    }
    out.push_back(row);
    if (!a.json)
      std::printf("%-12s %s  (since %s)%s\n", k.jurisdiction.c_str(), k.public_key_hex.c_str(),
                  k.added_at.c_str(), where.c_str());
  }
  if (a.json) std::cout << out.dump(2) << "\n";
  if (!a.json && out.empty()) std::printf("no trusted partner keys\n");
  return 0;
}

int RunKeys(const KeysArgs& a) {
  auto db = index::Database::Open(a.db, a.action == "init");
  if (a.action == "init") {
    Check(!a.jurisdiction.empty(), "keys init: give --jurisdiction (this database's own, e.g. NL)");
    const std::string current = db->Setting("jurisdiction");
    Check(current.empty() || current == a.jurisdiction,
          "keys init: this database is " + current + " already; a jurisdiction is not changed");
    const KeyPair k = CreateKeyPair(a.db);
    db->SetSetting("jurisdiction", a.jurisdiction);
    std::printf(
        "jurisdiction %s\npublic key %s\n(give the public key to partners: toolmark keys trust "
        "--jurisdiction "
        "%s --key %s)\n",
        a.jurisdiction.c_str(), Hex(k.public_key).c_str(), a.jurisdiction.c_str(), Hex(k.public_key).c_str());
    return 0;
  }
  if (a.action == "show") {
    const KeyPair k = LoadKeyPair(a.db);
    if (a.json) {
      std::cout << nlohmann::json{{"jurisdiction", HomeJurisdiction(*db)}, {"public_key", Hex(k.public_key)}}
                       .dump(2)
                << "\n";
    } else {
      std::printf("jurisdiction %s\npublic key %s\n", HomeJurisdiction(*db).c_str(),
                  Hex(k.public_key).c_str());
    }
    return 0;
  }
  if (a.action == "trust" || a.action == "untrust") {
    Check(!a.jurisdiction.empty() && !a.key.empty(), "keys " + a.action + ": give --jurisdiction and --key");
    Check(a.action == "trust" || (a.url.empty() && a.tls_cert.empty()),
          "keys untrust: no --url or --tls-cert");
    Check(a.tls_cert.empty() || !a.url.empty(),
          "keys trust: --tls-cert pins the certificate of a --url; give both");
    FromHex(a.key, 32, "--key");
    if (a.action == "trust") {
      Check(a.jurisdiction != db->Setting("jurisdiction"),
            "keys trust: that is this database's own jurisdiction");
      TrustPartner(a, *db);
    } else {
      db->Untrust(a.jurisdiction, a.key);
      std::printf("no longer trusted: %s %s\n", a.jurisdiction.c_str(), a.key.c_str());
    }
    return 0;
  }
  return ListKeys(a, *db);
}

struct UsersArgs {
  std::string db, action, name, role, jurisdiction;
  bool json = false;
};

int RunUsers(const UsersArgs& a) {
  auto db = index::Database::Open(a.db, false);
  if (a.action == "add") {
    Check(!a.name.empty() && !a.role.empty(), "users add: give NAME and --role");
    index::UserRecord u;
    u.name = a.name;
    u.role = a.role;
    u.jurisdiction = a.jurisdiction.empty() ? HomeJurisdiction(*db) : a.jurisdiction;
    const std::string token = NewToken();
    db->AddUser(u, TokenSha256(token));
    std::printf("user %s (%s, %s)\ntoken %s\n(shown once: only its SHA-256 is stored)\n", u.name.c_str(),
                u.role.c_str(), u.jurisdiction.c_str(), token.c_str());
    return 0;
  }
  if (a.action == "revoke") {
    db->RevokeUser(a.name);
    std::printf("revoked: %s\n", a.name.c_str());
    return 0;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const index::UserRecord& u : db->Users()) {
    out.push_back({{"name", u.name},
                   {"jurisdiction", u.jurisdiction},
                   {"role", u.role},
                   {"created_at", u.created_at},
                   {"revoked_at", u.revoked_at ? nlohmann::json(*u.revoked_at) : nlohmann::json()}});
    if (!a.json)
      std::printf("%-20s %-14s %-12s %s%s\n", u.name.c_str(), u.role.c_str(), u.jurisdiction.c_str(),
                  u.created_at.c_str(), u.revoked_at ? (" revoked " + *u.revoked_at).c_str() : "");
  }
  if (a.json) std::cout << out.dump(2) << "\n";
  return 0;
}

struct ShareArgs {
  std::string db, with;
  std::vector<index::ItemId> items;
};

struct ExportArgs {
  std::string db, to, level = "features", out;
  std::vector<index::ItemId> items;
};

struct ImportArgs {
  std::string db, package;
};

/// `toolmark keys`.
void RegisterKeysCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<KeysArgs>();
  CLI::App* cmd =
      app.add_subcommand("keys", "The jurisdiction's signing key pair and the trust list of partner keys");
  AddDbFlag(cmd, &a->db);
  cmd->add_option("action", a->action, "init | show | trust | untrust | list")
      ->check(CLI::IsMember({"init", "show", "trust", "untrust", "list"}))
      ->required();
  cmd->add_option("--jurisdiction", a->jurisdiction,
                  "init: this database's jurisdiction; trust: the partner's");
  cmd->add_option("--key", a->key, "trust / untrust: the partner's public key (64 hex digits)");
  cmd->add_option("--url", a->url,
                  "trust: where the partner answers federated searches (https://HOST:PORT; "
                  "search --partners JURISDICTION then uses it)");
  cmd->add_option("--tls-cert", a->tls_cert,
                  "trust: the partner server's certificate (PEM), pinned: the only one accepted at --url "
                  "(default: the system's trust store)");
  cmd->add_flag("--json", a->json, "Print JSON");
  cmd->callback([a, action] { *action = [a] { return RunKeys(*a); }; });
}

/// `toolmark users`.
void RegisterUsersCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<UsersArgs>();
  CLI::App* cmd =
      app.add_subcommand("users", "Users of the HTTP API: a role and a jurisdiction each, and a token");
  AddDbFlag(cmd, &a->db);
  cmd->add_option("action", a->action, "add | list | revoke")
      ->check(CLI::IsMember({"add", "list", "revoke"}))
      ->required();
  cmd->add_option("name", a->name, "User name (add, revoke)");
  cmd->add_option("--role", a->role, "technician, examiner, investigator or admin")
      ->check(CLI::IsMember({"technician", "examiner", "investigator", "admin"}));
  cmd->add_option("--jurisdiction", a->jurisdiction, "The user's jurisdiction (default: the database's own)");
  cmd->add_flag("--json", a->json, "Print JSON");
  cmd->callback([a, action] { *action = [a] { return RunUsers(*a); }; });
}

/// `toolmark share`.
void RegisterShareCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<ShareArgs>();
  CLI::App* cmd =
      app.add_subcommand("share", "Make items visible to another jurisdiction's users of this server");
  AddDbFlag(cmd, &a->db);
  cmd->add_option("--items", a->items, "Item ids (comma-separated)")->delimiter(',')->required();
  cmd->add_option("--with", a->with, "The jurisdiction")->required();
  cmd->callback([a, action] {
    *action = [a] {
      auto db = index::Database::Open(a->db, false);
      db->Share(a->items, a->with);
      std::printf("shared %zu items with %s\n", a->items.size(), a->with.c_str());
      return 0;
    };
  });
}

/// `toolmark export`.
void RegisterExportCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand("export", "Write a signed evidence package for another jurisdiction");
  AddDbFlag(cmd, &a->db);
  cmd->add_option("--items", a->items, "Item ids (comma-separated)")->delimiter(',')->required();
  cmd->add_option("--to", a->to, "The receiving jurisdiction")->required();
  cmd->add_option("--level", a->level,
                  "features (embeddings, quick features, minimal metadata) or scans (also the scans)")
      ->check(CLI::IsMember({"features", "scans"}));
  cmd->add_option("out", a->out, "Package file to write (e.g. to-DE.tmpkg)")->required();
  cmd->callback([a, action] {
    *action = [a] {
      auto db = index::Database::Open(a->db, false);
      ExportRequest r;
      r.items = a->items;
      r.to = a->to;
      r.level = a->level;
      const std::string id = ExportPackage(*db, r, a->out);
      std::printf("package %s: %zu items for %s (%s), signed by %s\n%s\n", id.c_str(), a->items.size(),
                  a->to.c_str(), a->level.c_str(), HomeJurisdiction(*db).c_str(), a->out.c_str());
      return 0;
    };
  });
}

/// `toolmark import`.
void RegisterImportCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<ImportArgs>();
  CLI::App* cmd =
      app.add_subcommand("import", "Verify and import a signed evidence package (all or nothing)");
  AddDbFlag(cmd, &a->db);
  cmd->add_option("package", a->package, "Package file")->required();
  cmd->callback([a, action] {
    *action = [a] {
      auto db = index::Database::Open(a->db, false);
      const ImportReport r = ImportPackageFile(*db, a->package);
      std::printf("imported package %s from %s (%s): %zu items, ids %lld-%lld\n", r.package_id.c_str(),
                  r.from.c_str(), r.level.c_str(), r.items.size(),
                  r.items.empty() ? 0LL : static_cast<long long>(r.items.front()),
                  r.items.empty() ? 0LL : static_cast<long long>(r.items.back()));
      return 0;
    };
  });
}

}  // namespace

void RegisterExchange(CLI::App& app, Action* action) {
  RegisterKeysCommand(app, action);
  RegisterUsersCommand(app, action);
  RegisterShareCommand(app, action);
  RegisterExportCommand(app, action);
  RegisterImportCommand(app, action);
}

}  // namespace toolmark::cli

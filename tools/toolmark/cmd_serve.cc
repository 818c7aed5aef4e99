// toolmark serve: argument parsing; the server is the serve library
// (tools/serve, toolmark/serve/server.h).
#include <memory>

#include "cli_common.h"
#include "toolmark/serve/server.h"

namespace toolmark::cli {

int RunServer(const std::string& db, const std::string& host, int port) {
  serve::ServeOptions options;
  options.db = db;
  options.host = host;
  options.port = port;
  options.open = true;  // the demo: a loopback workstation
  return serve::Serve(options);
}

void RegisterServe(CLI::App& app, Action* action) {
  auto args = std::make_shared<serve::ServeOptions>();
  CLI::App* cmd =
      app.add_subcommand("serve", "The review server: HTTP(S) API (JSON) and web UI over the database");
  AddDbFlag(cmd, &args->db);
  cmd->add_option("--host", args->host, "Address to listen on (default 127.0.0.1: loopback only)");
  cmd->add_option("--port", args->port, "TCP port (0: any free port; the URL is printed)")
      ->check(CLI::Range(0, 65535));
  cmd->add_flag(
      "--open", args->open,
      "No logins (loopback only): every request acts as a local admin; without it every API request "
      "needs a user's token (toolmark users add)");
  cmd->add_option("--tls-cert", args->tls_cert,
                  "HTTPS: the server's certificate file (PEM, its chain may follow); with --tls-key")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", args->tls_key, "HTTPS: the server's private key file (PEM, unencrypted)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--plain-http", args->plain_http,
                "Plain HTTP on an address beyond loopback (behind a TLS terminator); partner searches "
                "then still need HTTPS or loopback");
  auto config = std::make_shared<std::string>();
  AddConfigFlag(cmd, config.get());
  cmd->add_option("--ui", args->ui,
                  "Folder of the review UI (static/, node_modules/); default: installed beside the binary, "
                  "or the source tree's tools/serve/ui/");
  cmd->callback([cmd, config, args, action] {
    ApplyConfigFile(cmd, *config);
    *action = [args] { return serve::Serve(*args); };
  });
}

}  // namespace toolmark::cli

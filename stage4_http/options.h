/**
 * @file options.h
 * The command line of the server (see `server --help`), parsed once in main().
 */
#pragma once

#include <cstdint>
#include <string>

/** Everything the command line can set, with the defaults of DESIGN.md. */
struct Options {
  std::string host = "127.0.0.1";  ///< listen address (IPv4 or IPv6 literal)
  std::uint16_t port = 8080;       ///< 0 asks the kernel for a free port
  int workers = 0;                 ///< worker processes; parse_options sets the number of CPUs
  std::string root;                ///< document root; parse_options sets "www next to the binary"
  bool verbose = false;            ///< log every connection and event
  std::string trace;               ///< --trace: the file events are appended to; empty: off
};

/**
 * Parses argv into an Options. On --help prints the usage and exits 0; on a bad option or value
 * prints one clear line plus a hint and exits 2 (a usage error). Runs in the parent, before any
 * fork.
 */
Options parse_options(int argc, char** argv);

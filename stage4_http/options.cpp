/**
 * @file options.cpp
 * Command-line parsing with getopt_long; every value is checked before the server starts.
 */
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstddef>

namespace {

constexpr int kMaxWorkers = 256;

const char kUsage[] =
    "usage: server [-H ADDR] [-p PORT] [-w N] [-r DIR] [-v] [--trace FILE] [-h]\n"
    "  -H, --host ADDR     listen address (default 127.0.0.1)\n"
    "  -p, --port PORT     TCP port, 0 = pick a free one (default 8080)\n"
    "  -w, --workers N     worker processes, 1..256 (default: number of CPUs)\n"
    "  -r, --root DIR      document root (default: www next to the binary)\n"
    "  -v, --verbose       log every connection and event (default: lifecycle only)\n"
    "      --trace FILE    append one JSON line per event to FILE (see notes/tracing.md)\n"
    "  -h, --help          show this help\n";

/** Prints "server: MESSAGE 'VALUE'" and the --help hint to stderr, then exits 2 (usage error). */
[[noreturn]] void usage_error(const char* message, const char* value) {
  fprintf(stderr, "server: %s '%s'\nTry 'server --help' for more information.\n", message, value);
  exit(2);
}

/**
 * Parses plain decimal digits as a number in [min, max]; anything else ("", "12x", "-1", "+1",
 * " 1": strtol alone would take the last two) is an error.
 */
long parse_number(const char* text, long min, long max, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long value = strtol(text, &end, 10);
  const bool digits = text[0] >= '0' && text[0] <= '9';  // strtol skips blanks and takes a sign
  if (!digits || errno != 0 || *end != '\0' || value < min || value > max) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a number from %ld to %ld, not", what, min, max);
    usage_error(message, text);
  }
  return value;
}

/** "www" in the directory of the running binary, so `make run` works from anywhere. */
std::string default_root() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return "www";
  const std::string binary(path, static_cast<std::size_t>(n));
  return binary.substr(0, binary.rfind('/') + 1) + "www";
}

/** One worker per CPU, within 1..kMaxWorkers. */
int default_workers() {
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus < 1 ? 1 : cpus > kMaxWorkers ? kMaxWorkers : static_cast<int>(cpus);
}

/** True when @p text is an IPv4 or IPv6 literal; host names are refused (no DNS lookup). */
bool is_ip_address(const char* text) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text, buffer) == 1 || inet_pton(AF_INET6, text, buffer) == 1;
}

/**
 * True when @p word is "--NAME=VALUE" and NAME (or a prefix of it, as getopt allows) is the long
 * form of the flag @p letter among @p options, a flag that takes no value. getopt_long reports
 * that mistake as an unknown option with the flag's letter in optopt.
 */
bool is_flag_given_a_value(const char* word, int letter, const option* options) {
  const char* equals = strchr(word, '=');
  if (strncmp(word, "--", 2) != 0 || equals == nullptr || equals == word + 2) return false;
  const auto length = static_cast<std::size_t>(equals - (word + 2));
  for (const option* o = options; o->name != nullptr; ++o)
    if (o->val == letter && o->has_arg == no_argument && strncmp(o->name, word + 2, length) == 0)
      return true;
  return false;
}

// clang-format off
const option kLongOptions[] = {
    {"host", required_argument, nullptr, 'H'},
    {"port", required_argument, nullptr, 'p'},
    {"workers", required_argument, nullptr, 'w'},
    {"root", required_argument, nullptr, 'r'},
    {"verbose", no_argument, nullptr, 'v'},
    {"trace", required_argument, nullptr, 'T'},  // long only: -t is --timeout from chapter 5
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};
// clang-format on

/** Exits with a usage error for what getopt_long() refused (@p c is ':' or '?'). */
[[noreturn]] void reject(int c, char** argv) {
  const char* word = argv[optind - 1];
  if (c == ':') usage_error("missing value for option", word);
  // getopt reports an unknown short option in optopt, an unknown long one in argv.
  if (is_flag_given_a_value(word, optopt, kLongOptions))
    usage_error("this option takes no value:", word);
  const char short_option[] = {'-', static_cast<char>(optopt), '\0'};
  usage_error("unknown option", optopt != 0 ? short_option : word);
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options options;
  bool root_given = false;
  opterr = 0;  // we print our own messages
  int c;
  while ((c = getopt_long(argc, argv, ":H:p:w:r:vh", kLongOptions, nullptr)) != -1) {
    switch (c) {
      case 'H':
        if (!is_ip_address(optarg))
          usage_error("--host must be an IPv4 or IPv6 address, not", optarg);
        options.host = optarg;
        break;
      case 'p':
        options.port = static_cast<std::uint16_t>(parse_number(optarg, 0, 65535, "--port"));
        break;
      case 'w':
        options.workers = static_cast<int>(parse_number(optarg, 1, kMaxWorkers, "--workers"));
        break;
      case 'r':
        options.root = optarg;
        root_given = true;
        break;
      case 'v':
        options.verbose = true;
        break;
      case 'T':
        if (optarg[0] == '\0') usage_error("--trace needs a file name, not", optarg);
        options.trace = optarg;
        break;
      case 'h':
        fputs(kUsage, stdout);
        exit(0);
      default:
        reject(c, argv);
    }
  }
  if (optind < argc) usage_error("unexpected argument", argv[optind]);
  if (options.workers == 0) options.workers = default_workers();
  if (!root_given) options.root = default_root();
  struct stat info;  // "" is no directory: `--root "$UNSET"` must not mean the default
  if (stat(options.root.c_str(), &info) == -1 || !S_ISDIR(info.st_mode))
    usage_error("--root must be an existing directory, not", options.root.c_str());
  return options;
}

/**
 * @file trace_file.cpp
 * A parser for the trace's flat JSON lines: enough JSON to reject anything the format forbids.
 */
#include "trace_file.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

namespace harness {

namespace {

/** Reads a JSON string starting at text[pos] == '"'; advances pos past it. */
std::optional<std::string> parse_string(const std::string& text, std::size_t& pos) {
  if (pos >= text.size() || text[pos] != '"') return std::nullopt;
  std::string out;
  for (++pos; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c == '"') {
      ++pos;
      return out;
    }
    if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;  // raw control byte
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++pos >= text.size()) return std::nullopt;
    const char e = text[pos];
    if (e == 'u') {
      if (pos + 4 >= text.size()) return std::nullopt;
      const std::string hex = text.substr(pos + 1, 4);
      if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return std::nullopt;
      out += static_cast<char>(std::stoi(hex, nullptr, 16) & 0xff);  // the server escapes bytes
      pos += 4;
    } else if (std::string("\"\\/").find(e) != std::string::npos) {
      out += e;
    } else {
      const std::string from = "bfnrt", to = "\b\f\n\r\t";
      const auto k = from.find(e);
      if (k == std::string::npos) return std::nullopt;
      out += to[k];
    }
  }
  return std::nullopt;
}

/** Reads a JSON integer (optional '-', digits, no leading zero); advances pos past it. */
std::optional<std::string> parse_integer(const std::string& text, std::size_t& pos) {
  const std::size_t start = pos;
  if (pos < text.size() && text[pos] == '-') ++pos;
  const std::size_t digits = pos;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  if (pos == digits || (text[digits] == '0' && pos - digits > 1)) return std::nullopt;
  return text.substr(start, pos - start);
}

/** The keys every line has, and the worker's number (id) exactly on a worker's lines. */
bool has_documented_keys(const TraceEvent& event) {
  for (const char* key : {"t_ns", "pid", "role", "ev"})
    if (!event.has(key)) return false;
  const std::string role = event.get("role");
  if (role != "single" && role != "parent" && role != "worker") return false;
  return event.has("id") == (role == "worker");
}

}  // namespace

std::string TraceEvent::get(const std::string& key) const {
  const auto it = fields.find(key);
  return it == fields.end() ? std::string() : it->second;
}

long long TraceEvent::number(const std::string& key) const {
  const auto it = fields.find(key);
  return it == fields.end() ? -1 : std::stoll(it->second);
}

std::optional<TraceEvent> parse_trace_line(const std::string& line) {
  TraceEvent event;
  event.line = line;
  std::size_t pos = 0;
  if (line.empty() || line[pos++] != '{') return std::nullopt;
  while (true) {
    const auto key = parse_string(line, pos);
    if (!key || event.has(*key) || pos >= line.size() || line[pos++] != ':') return std::nullopt;
    const auto value = pos < line.size() && line[pos] == '"' ? parse_string(line, pos)
                                                             : parse_integer(line, pos);
    if (!value) return std::nullopt;
    event.fields[*key] = *value;
    if (pos >= line.size()) return std::nullopt;
    const char next = line[pos++];
    if (next == '}') break;
    if (next != ',') return std::nullopt;
  }
  if (pos != line.size() || !has_documented_keys(event)) return std::nullopt;
  return event;
}

std::vector<TraceEvent> read_trace(const std::string& path) {
  std::vector<TraceEvent> trace;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) line += "<no newline>";  // a line is only complete with its '\n'
    auto event = parse_trace_line(line);
    if (!event) {
      event = TraceEvent{};
      event->fields["invalid"] = line;
      event->line = line;
    }
    trace.push_back(*event);
  }
  return trace;
}

std::vector<TraceEvent> events_named(const std::vector<TraceEvent>& trace, const std::string& ev) {
  std::vector<TraceEvent> out;
  for (const TraceEvent& event : trace)
    if (event.get("ev") == ev) out.push_back(event);
  return out;
}

std::vector<TraceEvent> wait_for_trace(const std::string& path,
                                       const std::function<bool(const TraceEvent&)>& match,
                                       int count, Millis deadline) {
  std::vector<TraceEvent> trace;
  wait_until(
      [&] {
        trace = read_trace(path);
        int found = 0;
        for (const TraceEvent& event : trace)
          if (!event.has("invalid") && match(event)) ++found;
        return found >= count;
      },
      deadline);
  return trace;
}

int find_event(const std::vector<TraceEvent>& trace,
               const std::function<bool(const TraceEvent&)>& match, int from) {
  for (int i = from; i < static_cast<int>(trace.size()); ++i)
    if (!trace[i].has("invalid") && match(trace[i])) return i;
  return -1;
}

std::vector<TraceEvent> stop_and_read_trace(ServerProcess& server, const std::string& path,
                                            int closes) {
  wait_for_trace(path, [](const TraceEvent& e) { return e.ev() == "close"; }, closes);
  server.signal(SIGTERM);
  const std::optional<int> status = server.wait_exit();
  if (status != 0) {
    ADD_FAILURE() << "the server did not exit 0 on SIGTERM\n" << server.stderr_text();
    return {};
  }
  std::vector<TraceEvent> trace = read_trace(path);
  bool valid = !trace.empty();
  for (const TraceEvent& event : trace)
    if (event.has("invalid")) {
      ADD_FAILURE() << "not a valid event: " << event.line;
      valid = false;
    }
  return valid ? trace : std::vector<TraceEvent>{};
}

TraceDir::TraceDir() {
  char pattern[] = "/tmp/trace-test-XXXXXX";
  if (mkdtemp(pattern) != nullptr) dir_ = pattern;
}

TraceDir::~TraceDir() {
  if (dir_.empty()) return;
  if (DIR* dir = opendir(dir_.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") unlink((dir_ + "/" + name).c_str());
    }
    closedir(dir);
  }
  rmdir(dir_.c_str());
}

}  // namespace harness

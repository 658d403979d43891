/**
 * @file http_client.cpp
 * Response parsing for the tests: strict enough to catch a malformed head.
 */
#include "http_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <thread>

namespace harness {

std::string HttpResponse::header(const std::string& lower_name) const {
  const auto found = headers.find(lower_name);
  return found == headers.end() ? "" : found->second;
}

std::optional<HttpResponse> read_response(Client& client, bool to_head, Millis deadline) {
  const std::string head = client.read_until("\r\n\r\n", deadline);
  if (head.empty()) return std::nullopt;
  HttpResponse response;
  std::size_t line_end = head.find("\r\n");
  response.status_line = head.substr(0, line_end);
  if (response.status_line.rfind("HTTP/1.", 0) != 0 || response.status_line.size() < 12)
    return std::nullopt;
  response.status = atoi(response.status_line.c_str() + 9);
  for (std::size_t start = line_end + 2; start < head.size() - 2; start = line_end + 2) {
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t value_start = colon + 1;
    while (value_start < line.size() && line[value_start] == ' ') ++value_start;
    response.headers[name] = line.substr(value_start);
  }
  if (to_head || response.status == 304) return response;  // a 304 never has a body
  const std::string length = response.header("content-length");
  if (length.empty()) return std::nullopt;
  const std::size_t size = std::strtoull(length.c_str(), nullptr, 10);
  response.body = client.read_exact(size, deadline);
  if (response.body.size() != size) return std::nullopt;
  return response;
}

std::string request(const std::string& method, const std::string& target,
                    const std::string& fields) {
  return method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + fields + "\r\n";
}

std::string get_request(const std::string& path, bool close) {
  return request("GET", path, close ? "Connection: close\r\n" : "");
}

std::optional<HttpResponse> fetch(std::uint16_t port, const std::string& path) {
  Client client(port);
  if (!client.connected() || !client.send_all(get_request(path, true))) return std::nullopt;
  return read_response(client);
}

void shrink_receive_buffer(Client& client, int bytes) {
  setsockopt(client.fd(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

std::string read_body_paced(Client& client, std::size_t size, std::size_t chunk, Millis pause) {
  std::string body = std::move(client.buffered());
  while (body.size() < size) {
    const std::string got = client.read_exact(std::min(chunk, size - body.size()));
    if (got.empty()) break;
    body += got;
    std::this_thread::sleep_for(pause);
  }
  return body;
}

}  // namespace harness

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace harness {

std::string DocRoot::pattern(std::size_t size) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return data;
}

DocRoot::DocRoot() {
  char base[] = "/tmp/docroot-XXXXXX";
  base_ = mkdtemp(base);
  root_ = base_ + "/www";
  mkdir(root_.c_str(), 0755);
  mkdir((root_ + "/sub").c_str(), 0755);
  std::string index = "<!DOCTYPE html><html><head><title>test</title></head><body>";
  index += std::string(612 - index.size() - 15, '.') + "</body></html>\n";
  write("index.html", index);
  write("empty.txt", "");
  write("ten_k.bin", pattern(10 * 1024));
  write("one_mib.bin", pattern(1024 * 1024));
  write("sub/index.html", "<html><body>sub</body></html>\n");
  write("style.css", "body { color: red; }\n");
  std::ofstream(base_ + "/secret.txt") << "TOP SECRET\n";
  symlink("index.html", (root_ + "/link_in").c_str());
  symlink("../secret.txt", (root_ + "/link_out").c_str());
}

DocRoot::~DocRoot() {
  nftw(
      base_.c_str(),
      [](const char* path, const struct stat*, int, struct FTW*) { return remove(path); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

void DocRoot::write(const std::string& relative, const std::string& content) const {
  std::ofstream(root_ + "/" + relative, std::ios::binary | std::ios::trunc) << content;
}

std::string DocRoot::content(const std::string& relative) const {
  std::ifstream in(root_ + "/" + relative, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace harness

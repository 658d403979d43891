/**
 * @file graceful_test.cpp
 * SIGQUIT's graceful stop with HTTP (stage 4 onwards): a response in flight completes.
 */
#include <gtest/gtest.h>
#include <signal.h>

#include "harness.h"
#include "http_client.h"

namespace {

using harness::Client;
using harness::DocRoot;
using harness::Millis;
using harness::ServerProcess;

// nginx's graceful stop: the download that has started finishes byte-exact, nobody new is
// served, and every process exits 0. The client reads slowly at first, so the response is still
// in flight (the server blocked on a full socket) when SIGQUIT arrives.
TEST(Graceful, ADownloadInFlightAtSigquitCompletesByteExactAndNobodyNewIsServed) {
  DocRoot docroot;
  const std::size_t size = 16 * 1024 * 1024;
  docroot.write("sixteen_mib.bin", DocRoot::pattern(size));
  ServerProcess server({{"--workers", "2", "--root", docroot.root()}});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client client(server.port());
  harness::shrink_receive_buffer(client, 64 * 1024);
  ASSERT_TRUE(client.send_all(harness::get_request("/sixteen_mib.bin")));  // keep-alive
  ASSERT_NE(client.read_until("\r\n\r\n").find("200 OK"), std::string::npos);
  std::string body = client.read_exact(64 * 1024);
  ASSERT_EQ(body.size(), 64u * 1024);

  server.signal(SIGQUIT);
  ASSERT_TRUE(server.wait_for_stderr("finishing 1 connections")) << server.stderr_text();
  Client late(server.port(), Millis(300));
  if (late.connected()) {  // the socket may still be closing: then it must not answer
    late.send_all(harness::get_request("/"));
    EXPECT_FALSE(harness::read_response(late, false, Millis(500)).has_value())
        << "a new connection was served after SIGQUIT";
  }

  const auto rest = client.read_to_eof(Millis(10000));  // then the server closes: keep-alive ends
  ASSERT_TRUE(rest.has_value()) << "the connection was not closed after the response";
  body += *rest;
  EXPECT_EQ(body.size(), size);
  EXPECT_TRUE(body == docroot.content("sixteen_mib.bin")) << "the bytes differ";
  EXPECT_EQ(server.wait_exit(), std::optional<int>(0)) << server.stderr_text();
}

}  // namespace

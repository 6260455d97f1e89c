#include "exporters/web/http_head.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

TEST(HttpHead, RequestIsRewrittenForOneAnswer) {
  const std::string in =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n"
      "Keep-Alive: timeout=5\r\nAccept: */*\r\n\r\nGET / HTTP/1.1\r\n";
  RequestParse p = ParseRequestHead(in);
  ASSERT_TRUE(p.head);
  EXPECT_EQ(p.head->size, in.find("GET /", 10));
  EXPECT_EQ(p.head->method, "GET");
  EXPECT_FALSE(p.head->http10);
  EXPECT_TRUE(p.head->keep_alive);
  EXPECT_EQ(p.head->body, 0u);
  EXPECT_EQ(p.head->forward,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HttpHead, KeepAliveFollowsVersionAndConnection) {
  auto keep = [](const std::string& head) {
    return ParseRequestHead(head + "\r\n").head->keep_alive;
  };
  EXPECT_TRUE(keep("GET / HTTP/1.1\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nConnection: Close\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.0\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nconnection: TE, close\r\n"));
  // Bare LF line ends, as civetweb accepts them.
  RequestParse p = ParseRequestHead("GET /x HTTP/1.1\nHost: y\n\n");
  ASSERT_TRUE(p.head);
  EXPECT_EQ(p.head->size, 25u);
}

TEST(HttpHead, IncompleteUntilTheBlankLine) {
  EXPECT_FALSE(ParseRequestHead("").complete());
  EXPECT_FALSE(ParseRequestHead("GET /metrics HTT").complete());
  EXPECT_FALSE(ParseRequestHead("GET / HTTP/1.1\r\nHost: x\r\n").complete());
  EXPECT_FALSE(ParseRequestHead("GET / HTTP/1.1\r\nHost: x\r\n\r").complete());
}

TEST(HttpHead, RefusesWithAStatusAndAReason) {
  auto status = [](const std::string& in) {
    RequestParse p = ParseRequestHead(in);
    return p.error ? p.error->status : 0;
  };
  EXPECT_EQ(status(std::string(kMaxRequestHead, 'a')), 431);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a')), 431);
  EXPECT_EQ(
      status("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"),
      431);
  EXPECT_EQ(status("GARBAGE\r\n\r\n"), 400);
  EXPECT_EQ(status("GET /\x01 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(status("GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
  EXPECT_EQ(status("GET / HTTP/1.1\r\n: v\r\n\r\n"), 400);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            411);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"), 413);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                   "Content-Length: 2\r\n\r\n"),
            413);
  EXPECT_EQ(status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 413);
  RequestParse p =
      ParseRequestHead("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n");
  ASSERT_TRUE(p.head);
  EXPECT_EQ(p.head->body, 12u);
  std::string r = ErrorResponse({431, "too big"});
  EXPECT_EQ(r.substr(0, 45), "HTTP/1.1 431 Request Header Fields Too Large\r");
  EXPECT_NE(r.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 12), "\r\n\r\ntoo big\n");
}

TEST(HttpHead, ResponseFraming) {
  auto head = [](const std::string& in) { return *ParseResponseHead(in); };
  EXPECT_FALSE(ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Le"));
  ResponseHead r = head("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\nbody");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.size, 39u);
  EXPECT_EQ(r.content_length, 42u);
  EXPECT_TRUE(r.self_delimited());
  EXPECT_FALSE(r.says_close);
  r = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(r.chunked);
  EXPECT_TRUE(r.self_delimited());
  r = head("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(r.self_delimited());
  EXPECT_TRUE(r.says_close);
  EXPECT_TRUE(head("HTTP/1.1 204 No Content\r\n\r\n").self_delimited());
  EXPECT_TRUE(head("HTTP/1.1 100 Continue\r\n\r\n").bodyless());
  EXPECT_EQ(head("SSH-2.0\r\n\r\n").status, 0);
  EXPECT_EQ(head("HTTP/1.1 2x0 OK\r\n\r\n").status, 0);
  EXPECT_EQ(head(std::string(kMaxRequestHead, 'x')).status, 0);
}

}  // namespace
}  // namespace ctcollect

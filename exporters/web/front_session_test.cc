#include "exporters/web/front_session.h"

#include <gtest/gtest.h>

namespace ctcollect {
namespace {

using Wait = FrontSession::Wait;
const char kAnswer[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";

// civetweb's side of one exchange: the request it got, then its answer
// (in pieces of `piece` bytes) and its close.
std::string Answer(FrontSession& s, const std::string& answer,
                   size_t piece = 1000) {
  EXPECT_TRUE(s.NeedsBackend());
  s.BackendOpened();
  std::string got;
  got.swap(s.to_backend());
  for (size_t i = 0; i < answer.size(); i += piece) {
    s.OnBackendBytes(std::string_view(answer).substr(i, piece));
  }
  s.OnBackendEnd();
  return got;
}

TEST(FrontSession, KeepAliveRequestsAreAnsweredOneAfterAnother) {
  FrontSession s;
  EXPECT_EQ(s.waiting(), Wait::kHead);  // the first request's deadline
  s.OnClientBytes("GET /metrics HTTP/1.1\r\nHo");
  EXPECT_EQ(s.waiting(), Wait::kHead);
  EXPECT_FALSE(s.NeedsBackend());
  s.OnClientBytes("st: x\r\n\r\n");
  EXPECT_EQ(s.waiting(), Wait::kNone);
  EXPECT_FALSE(s.ReadsClient());  // the next request waits in the kernel
  EXPECT_EQ(Answer(s, kAnswer, 7),
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(s.to_client(), kAnswer);
  EXPECT_FALSE(s.Finished());
  EXPECT_EQ(s.waiting(), Wait::kIdle);
  EXPECT_EQ(s.answered(), 1u);
  s.to_client().clear();
  s.OnClientBytes("GET / HTTP/1.1\r\n\r\n");
  Answer(s,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3\r\nabc\r\n0\r\n\r\n",
         5);
  EXPECT_FALSE(s.Finished());
  EXPECT_EQ(s.answered(), 2u);
}

TEST(FrontSession, PipelinedRequestsAreAnsweredInOrder) {
  FrontSession s;
  s.OnClientBytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c");
  EXPECT_EQ(Answer(s, kAnswer).substr(0, 6), "GET /a");
  EXPECT_EQ(Answer(s, kAnswer).substr(0, 6), "GET /b");
  EXPECT_FALSE(s.NeedsBackend());
  EXPECT_EQ(s.waiting(), Wait::kHead);
  EXPECT_EQ(s.to_client(), std::string(kAnswer) + kAnswer);
}

TEST(FrontSession, ClosesWhenTheClientOrTheAnswerSaysSo) {
  const std::string close_cases[][2] = {
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", kAnswer},
      {"GET / HTTP/1.0\r\n\r\n", kAnswer},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", kAnswer},
      // The answer's end is the close, or it says close, or it broke off.
      {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\nabc"},
      {"GET / HTTP/1.1\r\n\r\n",
       "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
       "Connection: close\r\n\r\n"},
      {"GET / HTTP/1.1\r\n\r\n",
       "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
      {"GET / HTTP/1.1\r\n\r\n",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"},
      {"GET / HTTP/1.1\r\n\r\n", "garbage"},
  };
  for (const auto& [request, answer] : close_cases) {
    FrontSession s;
    s.OnClientBytes(request);
    Answer(s, answer);
    EXPECT_TRUE(s.Finished()) << request << answer;
    EXPECT_EQ(s.to_client(), answer);
  }
  // HEAD: a length with no body is complete.
  FrontSession s;
  s.OnClientBytes("HEAD / HTTP/1.1\r\n\r\n");
  Answer(s, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
  EXPECT_FALSE(s.Finished());
}

TEST(FrontSession, InterimAnswerThenTheRealOne) {
  FrontSession s;
  s.OnClientBytes("POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
  EXPECT_TRUE(s.ReadsClient());
  s.OnClientBytes("cdGET");
  std::string sent =
      Answer(s,
             "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
             "1\r\n\r\nx",
             3);
  EXPECT_EQ(sent.substr(sent.size() - 4), "abcd");
  EXPECT_FALSE(s.Finished());
  EXPECT_EQ(s.waiting(), Wait::kHead);  // "GET" is the next head's start
}

TEST(FrontSession, RefusedHeadsAndNoAnswerGetAnErrorThenClose) {
  FrontSession s;
  s.OnClientBytes(std::string(20000, 'a'));
  EXPECT_TRUE(s.Finished());
  EXPECT_FALSE(s.NeedsBackend());
  EXPECT_EQ(s.to_client().substr(0, 12), "HTTP/1.1 431");

  FrontSession t;
  t.OnClientBytes("GET / HTTP/1.1\r\n\r\n");
  t.BackendOpened();
  t.OnBackendEnd();  // civetweb closed without a byte
  EXPECT_TRUE(t.Finished());
  EXPECT_EQ(t.to_client().substr(0, 12), "HTTP/1.1 503");
}

TEST(FrontSession, TimeoutsAndTheClientsEnd) {
  FrontSession idle;
  idle.OnTimeout();
  EXPECT_TRUE(idle.Finished());
  EXPECT_TRUE(idle.to_client().empty());

  FrontSession part;
  part.OnClientBytes("GET / HT");
  part.OnTimeout();
  EXPECT_TRUE(part.Finished());
  EXPECT_EQ(part.to_client().substr(0, 12), "HTTP/1.1 408");

  // A client that sent its request and shut its side still gets the answer.
  FrontSession half;
  half.OnClientBytes("GET / HTTP/1.1\r\n\r\n");
  half.OnClientEnd();
  EXPECT_FALSE(half.Finished());
  Answer(half, kAnswer);
  EXPECT_TRUE(half.Finished());
  EXPECT_EQ(half.to_client(), kAnswer);

  FrontSession body;
  body.OnClientBytes("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab");
  body.OnClientEnd();
  EXPECT_TRUE(body.Finished());
}

TEST(FrontSession, AClientThatDoesNotReadStopsCivetweb) {
  FrontSession s;
  s.OnClientBytes("GET / HTTP/1.1\r\n\r\n");
  s.BackendOpened();
  EXPECT_TRUE(s.ReadsBackend());
  s.OnBackendBytes("HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n");
  s.OnBackendBytes(std::string(FrontSession::kMaxBuffered, 'x'));
  EXPECT_FALSE(s.ReadsBackend());
  s.to_client().clear();
  EXPECT_TRUE(s.ReadsBackend());
}

}  // namespace
}  // namespace ctcollect

// Fuzz target: what a client sends the web front (request heads, parsed
// and rewritten) and what comes back from civetweb (response heads), driven
// through a FrontSession as they would arrive, in pieces.
//
// Input: byte 0 splits the rest into client bytes and answer bytes; byte 1
// sets the piece size. Invariants: a head forwarded to civetweb ends with
// "Connection: close" and its blank line; the session never buffers past
// its bounds; a refused head is answered with a status line.
#include <cstdint>
#include <string>
#include <string_view>

#include "exporters/web/front_session.h"
#include "exporters/web/http_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t split = all.size() * data[0] / 255;
  const size_t piece = 1 + data[1] % 64;
  const std::string_view client = all.substr(0, split);
  const std::string_view answer = all.substr(split);

  ctcollect::RequestParse p = ctcollect::ParseRequestHead(client);
  if (p.head) {
    const std::string& f = p.head->forward;
    if (f.size() < 21 ||
        f.compare(f.size() - 21, 21, "Connection: close\r\n\r\n") != 0) {
      __builtin_trap();
    }
    if (p.head->size > client.size() ||
        p.head->size > ctcollect::kMaxRequestHead) {
      __builtin_trap();
    }
  }
  if (p.error && p.error->reason.empty()) __builtin_trap();
  auto r = ctcollect::ParseResponseHead(answer);
  if (r && r->size > answer.size()) __builtin_trap();

  ctcollect::FrontSession s;
  size_t c = 0, a = 0;
  while (c < client.size() || a < answer.size()) {
    if (c < client.size() && s.ReadsClient()) {
      s.OnClientBytes(client.substr(c, piece));
      c += piece;
    } else if (c < client.size()) {
      c = client.size();  // the rest waits in the kernel
    }
    if (s.NeedsBackend()) s.BackendOpened();
    if (s.HasBackend() && a < answer.size()) {
      s.OnBackendBytes(answer.substr(a, piece));
      a += piece;
      if (a >= answer.size()) s.OnBackendEnd();
    } else if (!s.HasBackend()) {
      a = answer.size();
    }
    s.to_backend().clear();
    const std::string& out = s.to_client();
    if (s.Finished() && !out.empty() && !s.HasBackend() &&
        out.compare(0, 5, "HTTP/") != 0 && a == 0) {
      __builtin_trap();  // a refusal the front wrote itself
    }
    s.to_client().clear();
    if (s.Finished()) break;
  }
  return 0;
}

#include "exporters/web/http_head.h"

#include <algorithm>
#include <cctype>

namespace ctcollect {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Whether the comma-separated header value lists `token`.
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    if (EqualsIgnoreCase(Trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// A decimal Content-Length, at most `max`; nullopt for anything else.
std::optional<size_t> ParseLength(std::string_view v, size_t max) {
  if (v.empty() || v.size() > 19) return std::nullopt;
  size_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (n > max) return std::nullopt;
  return n;
}

// The end of the head at the start of `in` (the offset after its blank
// line), or npos. Lines end with CRLF or a bare LF, as civetweb accepts.
size_t HeadEnd(std::string_view in) {
  for (size_t i = in.find('\n'); i != std::string_view::npos;
       i = in.find('\n', i + 1)) {
    if (i + 1 < in.size() && in[i + 1] == '\n') return i + 2;
    if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n')
      return i + 3;
  }
  return std::string_view::npos;
}

// Calls fn(name, value, raw_line) for each header line after the first;
// false if a line is no "name: value".
template <typename Fn>
bool ForEachHeader(std::string_view head, Fn fn) {
  size_t eol = head.find('\n');
  head.remove_prefix(eol + 1);
  while (!head.empty()) {
    eol = head.find('\n');
    std::string_view line = head.substr(0, eol + 1);
    head.remove_prefix(eol + 1);
    std::string_view bare = Trim(line.substr(0, line.size() - 1));
    if (bare.empty()) break;  // the blank line
    size_t colon = bare.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    std::string_view name = bare.substr(0, colon);
    if (name.find_first_of(" \t") != std::string_view::npos) return false;
    fn(name, Trim(bare.substr(colon + 1)), line);
  }
  return true;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c > 32 && c < 127; });
}

}  // namespace

RequestParse ParseRequestHead(std::string_view in) {
  RequestParse r;
  const size_t end = HeadEnd(in.substr(0, kMaxRequestHead));
  if (end == std::string_view::npos) {
    if (in.size() >= kMaxRequestHead) {
      r.error = HeadError{431, "request head larger than 16384 bytes"};
    }
    return r;
  }
  const std::string_view head = in.substr(0, end);
  auto bad = [&r](int status, std::string reason) {
    r.error = HeadError{status, std::move(reason)};
    return r;
  };
  // Request line: METHOD SP TARGET SP HTTP/1.x
  std::string_view line = Trim(head.substr(0, head.find('\n')));
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) {
    return bad(400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method) || !IsToken(target)) {
    return bad(400, "malformed request line");
  }
  if (version.substr(0, 7) != "HTTP/1." || version.size() != 8) {
    return bad(505, "only HTTP/1.0 and HTTP/1.1 are served");
  }
  RequestHead h;
  h.size = end;
  h.method = method;
  h.http10 = version[7] == '0';
  h.keep_alive = !h.http10;
  h.forward.reserve(end + 20);
  h.forward.append(head.substr(0, head.find('\n') + 1));
  bool length_seen = false, bad_length = false, chunked = false;
  bool ok = ForEachHeader(
      head,
      [&](std::string_view name, std::string_view value, std::string_view raw) {
        if (EqualsIgnoreCase(name, "Connection")) {
          if (HasToken(value, "close")) h.keep_alive = false;
          if (HasToken(value, "keep-alive")) h.keep_alive = true;
          return;  // hop-by-hop: the front decides for civetweb
        }
        if (EqualsIgnoreCase(name, "Keep-Alive")) return;
        if (EqualsIgnoreCase(name, "Transfer-Encoding")) chunked = true;
        if (EqualsIgnoreCase(name, "Content-Length")) {
          auto n = ParseLength(value, kMaxRequestBody);
          if (!n || (length_seen && *n != h.body)) bad_length = true;
          if (n) h.body = *n;
          length_seen = true;
        }
        h.forward.append(raw);
      });
  if (!ok) return bad(400, "malformed header line");
  if (chunked) return bad(411, "chunked request bodies are not accepted");
  if (bad_length) {
    return bad(413, "Content-Length not a number up to 65536");
  }
  // HTTP/1.0 keeps its connection only when it asked to; this front closes
  // it anyway (see FrontSession), so say so to civetweb either way.
  h.forward.append("Connection: close\r\n\r\n");
  r.head = std::move(h);
  return r;
}

std::string ErrorResponse(const HeadError& e) {
  const char* text = e.status == 400   ? "Bad Request"
                     : e.status == 408 ? "Request Timeout"
                     : e.status == 411 ? "Length Required"
                     : e.status == 413 ? "Content Too Large"
                     : e.status == 431 ? "Request Header Fields Too Large"
                     : e.status == 503 ? "Service Unavailable"
                     : e.status == 505 ? "HTTP Version Not Supported"
                                       : "Error";
  std::string body = e.reason + "\n";
  return "HTTP/1.1 " + std::to_string(e.status) + " " + text +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

std::optional<ResponseHead> ParseResponseHead(std::string_view in) {
  const size_t end = HeadEnd(in.substr(0, kMaxRequestHead));
  if (end == std::string_view::npos) {
    if (in.size() >= kMaxRequestHead) return ResponseHead{};
    return std::nullopt;
  }
  const std::string_view head = in.substr(0, end);
  ResponseHead r;
  r.size = end;
  std::string_view line = Trim(head.substr(0, head.find('\n')));
  // HTTP/1.x NNN ...
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(line[9])) ||
      !std::isdigit(static_cast<unsigned char>(line[10])) ||
      !std::isdigit(static_cast<unsigned char>(line[11]))) {
    return r;
  }
  const int status =
      (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  bool ok = ForEachHeader(head, [&](std::string_view name,
                                    std::string_view value, std::string_view) {
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (auto n = ParseLength(value, SIZE_MAX / 16)) r.content_length = *n;
    }
    if (EqualsIgnoreCase(name, "Transfer-Encoding") &&
        HasToken(value, "chunked")) {
      r.chunked = true;
    }
    if (EqualsIgnoreCase(name, "Connection") && HasToken(value, "close")) {
      r.says_close = true;
    }
  });
  if (!ok) {
    ResponseHead malformed;
    malformed.size = end;
    return malformed;
  }
  r.status = status;
  return r;
}

}  // namespace ctcollect

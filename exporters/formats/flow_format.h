// One conntrack flow (a libnetfilter_conntrack object) as text:
//  - XML exactly as `conntrack -L -o xml` prints a flow (NFCT_O_XML);
//  - conntrackd's `-i` line and `-i -x` line (timeout, counters and use
//    left out, as conntrackd's stats cache does);
//  - ctcollect's JSON object (schema in the README).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

struct nf_conntrack;
struct nf_expect;

namespace ctcollect {

// The XML document framing of `conntrack -L -o xml`.
inline constexpr const char* kConntrackXmlHeader =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<conntrack>\n";
inline constexpr const char* kConntrackXmlFooter = "</conntrack>\n";

std::string FlowXml(const nf_conntrack* ct);

// The document frame of `conntrack -L expect -o xml`.
inline constexpr const char* kExpectXmlHeader =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<expect>\n";
inline constexpr const char* kExpectXmlFooter = "</expect>\n";

// One expectation as `conntrack -L expect` prints it (plain or XML).
std::string ExpectLine(const nf_expect* exp, bool xml);

// `active_seconds` is how long ctcollect has known the flow; with
// `expires_in` >= 0 (ALARM's external cache) the plain line says
// " [expires in Ns]" before it, as conntrackd's cache timer does.
std::string ConntrackdFlowLine(nf_conntrack* ct, bool xml,
                               int64_t active_seconds, int64_t expires_in = -1);

// One JSON object (no trailing newline). `netns` is the --netns label.
std::string FlowJson(const nf_conntrack* ct, const std::string& netns);

// A flow of a replication peer's external cache as one JSON object: the
// flow schema with "peer" in place of "netns" (the reply tuple is what the
// peer sent: none).
std::string ExternalFlowJson(const nf_conntrack* ct, const std::string& peer);

// Appends s to out as a JSON string literal (quoted, escaped).
void AppendJsonString(std::string* out, const std::string& s);

}  // namespace ctcollect

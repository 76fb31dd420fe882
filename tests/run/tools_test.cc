// SPDX-License-Identifier: MIT
// What people look at (issue 11), through the real binary on the bundled examples: the streamed
// report (its JSON shape, JSON Lines read line by line, the CSV), nicsim profile, nicsim sweep and
// --report DIR.
#include <gtest/gtest.h>

#include <jansson.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace
{

using nicsim_test::nicsim;
using nicsim_test::Result;
using nicsim_test::slurp;
using nicsim_test::Tmp;

const char *const kExamples[] = {"firewall", "ipip", "l4lb", "parser", "router"};

std::string obj(const std::string &name)
{
    return std::string(NICSIM_EXAMPLES_DIR) + "/" + name + ".bpf.o";
}
std::string src(const std::string &rel)
{
    return std::string(NICSIM_EXAMPLES_SOURCE_DIR) + "/" + rel;
}
// OBJ --pcap TRACE --maps-dir MAPS [--prog P]: the example as `nicsim demo` runs it
std::string example_args(const std::string &name)
{
    return obj(name) + " --pcap " + src("traces/" + name + ".pcap") + " --maps-dir " +
           src(name + ".maps") + (name == "parser" ? " --prog xdp_parser" : "") + " --no-progress";
}

// A shell command (jq) with its output.
Result sh(const std::string &cmd)
{
    Tmp t;
    int st =
        system((cmd + " > " + t.path("out") + " 2> " + t.path("err") + " < /dev/null").c_str());
    Result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(t.path("out"));
    r.err = slurp(t.path("err"));
    return r;
}

std::vector<std::string> lines_of(const std::string &s)
{
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);)
        v.push_back(l);
    return v;
}

class ToolsExample : public testing::TestWithParam<const char *>
{
};

// ---- The report --------------------------------------------------------------------------------

// The --json document keeps its shape and key order (tests and --baseline read it); the times and
// drop cause of issue 11 come after the keys it had, and agree with each other.
TEST_P(ToolsExample, JsonKeepsItsShapeAndTimesAgree)
{
    std::string name = GetParam();
    Tmp t;
    Result r = nicsim("run " + example_args(name) + " --quiet --json " + t.path("r.json"));
    ASSERT_EQ(r.status, 0) << r.err;
    Result k = sh("jq -c 'keys_unsorted' " + t.path("r.json"));
    ASSERT_EQ(k.status, 0) << k.err << " (jq is installed by scripts/bootstrap.sh)";
    EXPECT_EQ(k.out, "[\"packets\",\"summary\"]\n");
    // every packet that ran: the keys earlier reports had, in their order, first
    k = sh("jq -c '[.packets[] | select(.error == null) | keys_unsorted[0:11]] | unique' " +
           t.path("r.json"));
    ASSERT_EQ(k.status, 0) << k.err;
    EXPECT_EQ(k.out, "[[\"index\",\"verdict\",\"verdict_code\",\"data_out\",\"cycles\","
                     "\"instructions\",\"core\",\"port\",\"stalls\",\"latency_ns\",\"egress\"]]\n");
    // arrival <= start <= end <= departure; queue wait and latency are their differences
    k = sh("jq -e '[.packets[] | select(.error == null) | .arrival_ns <= .start_ns and "
           ".start_ns <= .end_ns and .end_ns <= .departure_ns and .queue_wait_ns == .start_ns - "
           ".arrival_ns and .latency_ns == .departure_ns - .arrival_ns] | all and length > 0' " +
           t.path("r.json"));
    EXPECT_EQ(k.status, 0) << k.out << k.err;
    // drops by cause in the summary equal the per-packet causes; departed the rest
    k = sh("jq -e '(.packets | map(select(.drop == \"xdp_drop\")) | length) == "
           ".summary.drops.xdp_drop and (.packets | map(select(.drop == \"none\")) | length) == "
           ".summary.achieved.departed and (.packets | map(select(.verdict == \"XDP_DROP\")) | "
           "length) == .summary.drops.xdp_drop' " +
           t.path("r.json"));
    EXPECT_EQ(k.status, 0) << k.out << k.err;
}

// JSON Lines: each line parses on its own, packets first with "type": "packet", the summary last;
// the packet objects are the --json document's.
TEST_P(ToolsExample, JsonLinesParseLineByLineAndEndWithTheSummary)
{
    std::string name = GetParam();
    Tmp t;
    Result r = nicsim("run " + example_args(name) + " --quiet --json " + t.path("r.json") +
                      " --json-lines " + t.path("r.jsonl"));
    ASSERT_EQ(r.status, 0) << r.err;
    std::vector<std::string> l = lines_of(slurp(t.path("r.jsonl")));
    ASSERT_GE(l.size(), 2u);
    for (size_t i = 0; i < l.size(); i++) {
        json_error_t e;
        json_t *j = json_loads(l[i].c_str(), 0, &e);
        ASSERT_NE(j, nullptr) << "line " << i + 1 << ": " << e.text;
        const char *type = json_string_value(json_object_get(j, "type"));
        ASSERT_NE(type, nullptr) << l[i];
        EXPECT_STREQ(type, i + 1 == l.size() ? "summary" : "packet") << "line " << i + 1;
        json_decref(j);
    }
    // jq reads it as a stream, value by value
    Result a = sh("jq -c '.packets[]' " + t.path("r.json"));
    Result b = sh("jq -c 'select(.type == \"packet\") | del(.type)' " + t.path("r.jsonl"));
    ASSERT_EQ(a.status, 0) << a.err;
    ASSERT_EQ(b.status, 0) << b.err;
    EXPECT_EQ(a.out, b.out);
    a = sh("jq -c '.summary' " + t.path("r.json"));
    b = sh("jq -c 'select(.type == \"summary\") | del(.type)' " + t.path("r.jsonl"));
    EXPECT_EQ(a.out, b.out);
}

INSTANTIATE_TEST_SUITE_P(Examples, ToolsExample, testing::ValuesIn(kExamples));

// --json FILE.jsonl writes JSON Lines.
TEST(ToolsReport, JsonWithJsonlSuffixWritesJsonLines)
{
    Tmp t;
    Result r = nicsim("run " + example_args("firewall") + " --quiet --json " + t.path("r.jsonl"));
    ASSERT_EQ(r.status, 0) << r.err;
    std::vector<std::string> l = lines_of(slurp(t.path("r.jsonl")));
    ASSERT_EQ(l.size(), 44u); // 43 packets and the summary
    EXPECT_EQ(l.front().rfind("{\"type\":\"packet\",\"index\":0,", 0), 0u) << l.front();
    EXPECT_EQ(l.back().rfind("{\"type\":\"summary\",", 0), 0u) << l.back();
}

// The summary on the terminal says what left the NIC and why the rest did not.
TEST(ToolsReport, TerminalSummaryHasDropsByCauseAndAchievedRate)
{
    Result r = nicsim("run " + example_args("firewall"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("left the NIC: 21; dropped: xdp_drop 22"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("achieved: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("latency (arrival to departure"), std::string::npos) << r.out;
}

// ---- nicsim profile ----------------------------------------------------------------------------

struct Totals {
    unsigned long long insns = 0, cycles = 0;
};

Totals run_totals(const std::string &name)
{
    Tmp t;
    Totals tot;
    Result r = nicsim("run " + example_args(name) + " --quiet --json " + t.path("r.json"));
    EXPECT_EQ(r.status, 0) << r.err;
    Result k = sh("jq -r '[([.packets[] | .instructions // 0] | add), ([.packets[] | .cycles // 0] "
                  "| add)] | @tsv' " +
                  t.path("r.json"));
    EXPECT_EQ(sscanf(k.out.c_str(), "%llu %llu", &tot.insns, &tot.cycles), 2) << k.out << k.err;
    return tot;
}

// The profile's executions sum to the run's instructions, its cycles to the run's cycles; the
// lines of each program also add up to its header.
TEST_P(ToolsExample, ProfileSumsToTheRun)
{
    std::string name = GetParam();
    Totals tot = run_totals(name);
    Result r = nicsim("profile " + example_args(name));
    ASSERT_EQ(r.status, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m,
                                  std::regex("(\\d+) runs, (\\d+) instructions, (\\d+) cycles "
                                             "\\(pipeline fill (\\d+)\\)")))
        << r.out;
    EXPECT_EQ(std::stoull(m[2]), tot.insns);
    EXPECT_EQ(std::stoull(m[3]), tot.cycles);
    // per-instruction rows: count, cycles, %, 7 stall columns, pc, text
    std::regex row("^ *(\\d+) +(\\d+) +[0-9.]+% +(\\d+) +(\\d+) +(\\d+) +(\\d+) +(\\d+) +(\\d+) "
                   "+(\\d+) +(\\d+)  \\S");
    unsigned long long count = 0, cycles = 0;
    for (const std::string &l : lines_of(r.out)) {
        std::smatch x;
        if (!std::regex_search(l, x, row))
            continue;
        count += std::stoull(x[1]);
        cycles += std::stoull(x[2]);
        unsigned long long stalls = 0;
        for (int i = 3; i <= 9; i++)
            stalls += std::stoull(x[i]);
        // each execution issues once; the rest of its cycles are stalls
        EXPECT_EQ(std::stoull(x[2]), std::stoull(x[1]) + stalls) << l;
    }
    EXPECT_EQ(count, tot.insns);
    EXPECT_EQ(cycles + std::stoull(m[4]), tot.cycles);
    // the source lines of the BTF line info are interleaved
    EXPECT_NE(r.out.find("; " + name + ".bpf.c:"), std::string::npos) << r.out.substr(0, 2000);
}

TEST(ToolsProfile, TopListsTheHottestLinesFirst)
{
    Result r = nicsim("profile " + example_args("l4lb") + " --top 3");
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_NE(r.out.find("hottest source lines (of "), std::string::npos) << r.out;
    // the three line rows (file:line), by cycles, descending
    std::regex hdr("^ *(\\d+) +(\\d+) +[0-9.]+% .* l4lb\\.bpf\\.c:(\\d+)  ");
    std::vector<unsigned long long> cyc;
    for (const std::string &l : lines_of(r.out)) {
        std::smatch x;
        if (std::regex_search(l, x, hdr))
            cyc.push_back(std::stoull(x[2]));
    }
    ASSERT_EQ(cyc.size(), 3u) << r.out;
    EXPECT_GE(cyc[0], cyc[1]);
    EXPECT_GE(cyc[1], cyc[2]);
    EXPECT_GT(cyc[2], 0u);
    // --top 1: one
    r = nicsim("profile " + example_args("l4lb") + " --top 1");
    size_t n = 0;
    for (const std::string &l : lines_of(r.out))
        n += std::regex_search(l, hdr);
    EXPECT_EQ(n, 1u) << r.out;
    r = nicsim("profile " + example_args("l4lb") + " --top 0");
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.err.find("--top"), std::string::npos) << r.err;
}

TEST(ToolsProfile, ObjectWithoutBtfShowsDisassemblyOnly)
{
    std::string args = std::string(TOOLS_NOBTF_OBJ) + " --pcap " + src("traces/firewall.pcap") +
                       " --maps-dir " + src("firewall.maps") + " --no-progress";
    Totals tot = run_totals("firewall");
    Result r = nicsim("profile " + args);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("no BTF line info for it: disassembly only"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(".bpf.c:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::to_string(tot.insns) + " instructions"), std::string::npos) << r.out;
    // --top ranks instructions then
    r = nicsim("profile " + args + " --top 2");
    EXPECT_NE(r.out.find("hottest instructions (of "), std::string::npos) << r.out;
}

// The verifier removed dead code before translation: each source line still sits above its own
// instructions (the slots are mapped back to the object's instructions through the driver).
TEST(ToolsProfile, LinesFollowTheVerifiersDeadCodeRemoval)
{
    Result r = nicsim("profile " + std::string(TOOLS_DEAD_CODE_OBJ) + " --pcap " +
                      src("traces/firewall.pcap") + " --no-progress");
    ASSERT_EQ(r.status, 0) << r.err;
    std::vector<std::string> l = lines_of(r.out);
    size_t at = l.size();
    for (size_t i = 0; i < l.size(); i++)
        if (l[i].find("long len = ctx->data_end - ctx->data;") != std::string::npos)
            at = i;
    ASSERT_LT(at + 1, l.size()) << r.out;
    // the line's first instruction loads a packet pointer from the context, and no dead
    // instruction (`add ..., 1/2/3` of the asm) is left in the image
    EXPECT_NE(l[at + 1].find("ldxdw"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(", 3\n"), std::string::npos) << r.out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("program xdp_dead_code: (\\d+) slots")));
    EXPECT_LT(std::stoul(m[1]), 15u); // 15 instructions in the object
}

// ---- nicsim sweep ------------------------------------------------------------------------------

// One row per (cores, rate), in that order, each with what the run library achieved; the fewest
// cores line for each rate; the same figures as one `nicsim run` at that point.
TEST(ToolsSweep, TableRowsAndFewestCores)
{
    Result r = nicsim("sweep " + example_args("l4lb") + " --cores 1-3,6 --line-rate 1,10");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    std::regex row("^ +(\\d+) +([0-9.]+) +([0-9.]+) +([0-9.]+) +(\\d+) +(\\d+) +(\\d+) +[0-9.]+%$");
    std::vector<std::pair<unsigned, double>> pts;
    std::vector<std::string> rows;
    for (const std::string &l : lines_of(r.out)) {
        std::smatch x;
        if (std::regex_search(l, x, row)) {
            pts.emplace_back(std::stoul(x[1]), std::stod(x[2]));
            rows.push_back(l);
        }
    }
    std::vector<std::pair<unsigned, double>> want = {{1, 1}, {1, 10}, {2, 1}, {2, 10},
                                                     {3, 1}, {3, 10}, {6, 1}, {6, 10}};
    EXPECT_EQ(pts, want) << r.out;
    std::smatch m;
    EXPECT_TRUE(std::regex_search(
        r.out, m, std::regex("fewest cores carrying the trace at 1 Gb/s: (\\d+|none)")))
        << r.out;
    EXPECT_TRUE(std::regex_search(
        r.out, m, std::regex("fewest cores carrying the trace at 10 Gb/s: (\\d+|none)")))
        << r.out;
    // the point (2 cores, 10 Gb/s) is what one run at --cores 2 --rate 10 achieves: its p99
    Tmp t;
    Result one = nicsim("run " + example_args("l4lb") + " --cores 2 --rate 10 --quiet --json " +
                        t.path("r.json"));
    ASSERT_EQ(one.status, 0) << one.err;
    Result p99 = sh("jq -r '.summary.latency_ns.p99' " + t.path("r.json"));
    ASSERT_EQ(rows.size(), 8u);
    std::smatch x;
    ASSERT_TRUE(std::regex_search(rows[3], x, row));
    EXPECT_EQ(x[7].str() + "\n", p99.out) << rows[3];
    // the program's own drops are not for lack of room
    EXPECT_EQ(x[5].str(), "0");
    EXPECT_EQ(x[6].str(), "7");
}

// A slow program at a rate the cores cannot keep up with: not carried by one core; a rate far
// below what one core does: carried by one.
TEST(ToolsSweep, FewestCoresFollowsTheLoad)
{
    Result r = nicsim("sweep " + example_args("firewall") + " --cores 1-2 --line-rate 0.01,100");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("fewest cores carrying the trace at 0.01 Gb/s: 1\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("fewest cores carrying the trace at 100 Gb/s: none of 1..2"),
              std::string::npos)
        << r.out;
}

TEST(ToolsSweep, BadListsAreUsageErrors)
{
    Result r = nicsim("sweep " + example_args("firewall") + " --cores 4-2");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--cores '4-2'"), std::string::npos) << r.err;
    r = nicsim("sweep " + example_args("firewall") + " --line-rate 10,x");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("'x' is not a rate"), std::string::npos) << r.err;
    r = nicsim("sweep " + example_args("firewall") + " --json out.json");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--json: an option of one run"), std::string::npos) << r.err;
}

// ---- --report DIR ------------------------------------------------------------------------------

bool nonempty(const std::string &path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

TEST(ToolsReportDir, RunWritesJsonCsvPlotsAndIndex)
{
    Tmp t;
    std::string dir = t.path("rep");
    Result r = nicsim("run " + example_args("router") + " --quiet --report " + dir);
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char *f : {"report.json", "packets.csv", "cycles.png", "cycles.svg", "latency.png",
                          "latency.svg", "index.html"})
        EXPECT_TRUE(nonempty(dir + "/" + f)) << f;
    EXPECT_FALSE(nonempty(dir + "/kernel.png")); // no --compare-kernel
    // one CSV row per packet (and the header), as many as the JSON report has
    std::vector<std::string> csv = lines_of(slurp(dir + "/packets.csv"));
    Result n = sh("jq '.packets | length' " + dir + "/report.json");
    ASSERT_EQ(n.status, 0) << n.err;
    EXPECT_EQ(std::to_string(csv.size() - 1) + "\n", n.out);
    EXPECT_EQ(csv.size() - 1, 65u); // the router's trace
    EXPECT_EQ(csv[0].rfind("index,error,verdict,", 0), 0u) << csv[0];
    // the CSV's cycles are the JSON's, row by row
    Result c = sh("jq -r '.packets[] | .cycles' " + dir + "/report.json");
    std::vector<std::string> jc = lines_of(c.out);
    ASSERT_EQ(jc.size(), csv.size() - 1);
    for (size_t i = 1; i < csv.size(); i++) {
        std::vector<std::string> f;
        std::stringstream ss(csv[i]);
        for (std::string x; std::getline(ss, x, ',');)
            f.push_back(x);
        ASSERT_GT(f.size(), 12u) << csv[i];
        EXPECT_EQ(f[11], jc[i - 1]) << "row " << i;
    }
    std::string html = slurp(dir + "/index.html");
    for (const char *img :
         {"cycles.png", "latency.png", "cycles.svg", "latency.svg", "report.json", "packets.csv"})
        EXPECT_NE(html.find(std::string("\"") + img + "\""), std::string::npos) << img;
    EXPECT_NE(html.find("xdp_router"), std::string::npos);
    // PNG and SVG are what they say
    EXPECT_EQ(slurp(dir + "/cycles.png").substr(1, 3), "PNG");
    EXPECT_NE(slurp(dir + "/latency.svg").find("<svg"), std::string::npos);
}

// With --compare-kernel: the NIC's ns per packet beside the host JIT's, in the plots and the page.
TEST(ToolsReportDir, CompareKernelAddsTheJitPlot)
{
    Tmp t;
    std::string dir = t.path("rep");
    Result r =
        nicsim("run " + example_args("router") + " --quiet --compare-kernel --report " + dir);
    ASSERT_EQ(r.status, 0) << r.err;
    if (r.err.find("--compare-kernel") != std::string::npos &&
        r.err.find("unavailable") != std::string::npos)
        GTEST_SKIP() << "kernel comparison unavailable: " << r.err;
    EXPECT_TRUE(nonempty(dir + "/kernel.png"));
    EXPECT_TRUE(nonempty(dir + "/kernel.svg"));
    std::string html = slurp(dir + "/index.html");
    EXPECT_NE(html.find("\"kernel.png\""), std::string::npos);
    EXPECT_NE(html.find("host kernel (JIT)"), std::string::npos);
    // every row that ran carries the kernel's verdict and ns
    std::vector<std::string> csv = lines_of(slurp(dir + "/packets.csv"));
    ASSERT_GT(csv.size(), 1u);
    EXPECT_NE(csv[1].find(",XDP_"), csv[1].rfind(",XDP_")) << csv[1];
}

TEST(ToolsReportDir, FileNamesAreEscapedInTheIndex)
{
    Tmp t;
    std::string odd = t.path("a<b>&'x.pcap");
    ASSERT_EQ(system(("cp " + src("traces/firewall.pcap") + " \"" + odd + "\"").c_str()), 0);
    std::string dir = t.path("rep");
    Result r = nicsim("run " + obj("firewall") + " --pcap \"" + odd + "\" --maps-dir " +
                      src("firewall.maps") + " --no-progress --quiet --report " + dir);
    ASSERT_EQ(r.status, 0) << r.err;
    std::string html = slurp(dir + "/index.html");
    EXPECT_EQ(html.find("a<b>"), std::string::npos);
    EXPECT_NE(html.find("a&lt;b&gt;&amp;&#39;x.pcap"), std::string::npos) << html;
}

TEST(ToolsReportDir, SweepWritesTablePlotAndIndex)
{
    Tmp t;
    std::string dir = t.path("sw");
    Result r =
        nicsim("sweep " + example_args("l4lb") + " --cores 1-2 --line-rate 10,25 --report " + dir);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    for (const char *f : {"sweep.csv", "sweep.png", "sweep.svg", "index.html"})
        EXPECT_TRUE(nonempty(dir + "/" + f)) << f;
    EXPECT_EQ(lines_of(slurp(dir + "/sweep.csv")).size(), 5u); // header and 2 x 2 points
    std::string html = slurp(dir + "/index.html");
    EXPECT_NE(html.find("\"sweep.png\""), std::string::npos);
    EXPECT_NE(html.find("<td>10 Gb/s</td>"), std::string::npos) << html;
}

TEST(ToolsReportDir, UnusableDirectoryIsRefusedBeforeTheReplay)
{
    Tmp t;
    std::string file = t.path("afile");
    ASSERT_EQ(system(("touch " + file).c_str()), 0);
    Result r = nicsim("run " + example_args("firewall") + " --report " + file);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("--report " + file + ": "), std::string::npos) << r.err;
    r = nicsim("run " + example_args("firewall") + " --report " + t.path("no/such/dir"));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("cannot create the directory"), std::string::npos) << r.err;
}

// ---- Figures ----------------------------------------------------------------------------------

// The README's table: one row per example, its figures those of the example's run.
TEST(ToolsBench, ExamplesTableIsTheRunsFigures)
{
    Result r = nicsim("bench examples --no-kernel");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    std::regex row("^\\| (\\w+) \\| ([0-9.]+) \\| (\\d+) \\| (\\d+) \\(([0-9]+) bytes\\) \\| not "
                   "measured \\|$");
    size_t rows = 0;
    for (const std::string &l : lines_of(r.out)) {
        std::smatch x;
        if (!std::regex_search(l, x, row))
            continue;
        rows++;
        Tmp t;
        Result one = nicsim("run " + example_args(x[1]) + " --quiet --json " + t.path("r.json"));
        ASSERT_EQ(one.status, 0) << one.err;
        Result j = sh("jq -r '.summary | [.cycles.mean, .clock_mhz, .mean_frame_bytes] | @tsv' " +
                      t.path("r.json"));
        double mean = 0, mhz = 0, frame = 0;
        ASSERT_EQ(sscanf(j.out.c_str(), "%lf %lf %lf", &mean, &mhz, &frame), 3) << j.out;
        char want[32];
        snprintf(want, sizeof(want), "%.1f", mean);
        EXPECT_EQ(x[2].str(), want) << l;
        // 100 Gb/s of 64-byte frames: 84 bytes each on the wire
        EXPECT_EQ(std::stoul(x[3]), (unsigned long)std::ceil(100e3 / (84 * 8) / (mhz / mean))) << l;
        EXPECT_EQ(std::stoul(x[4]),
                  (unsigned long)std::ceil(100e3 / ((frame + 24) * 8) / (mhz / mean)))
            << l;
    }
    EXPECT_EQ(rows, 5u) << r.out;
}

// bench replay prints the replay's speed without a report, with --json and with --json-lines.
TEST(ToolsBench, ReplayPrintsTheReportsCost)
{
    Result r = nicsim("bench replay --no-kernel --packets 3000");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("the report's cost (3000 packets"), std::string::npos) << r.out;
    std::regex json("--json +[0-9]+ packets/s .* ([0-9.]+) MB written, [0-9]+% of the replay's");
    std::regex lines("--json-lines +[0-9]+ packets/s .* MB written");
    EXPECT_TRUE(std::regex_search(r.out, json)) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, lines)) << r.out;
}

} // namespace

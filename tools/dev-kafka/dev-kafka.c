/*
 * dev-kafka: the project's development Kafka broker.
 *
 * Starts librdkafka's mock cluster (a Kafka-protocol broker on loopback, kept
 * in memory), creates the topics named on the command line, prints one line
 * `BOOTSTRAP=host:port,...` and then serves fault-injection commands on stdin,
 * one per line, answering each with exactly one line `OK` or `ERR <reason>`.
 * See README.md beside this file for the protocol and the mock's limits.
 *
 * Exits 0 on SIGTERM, SIGINT or end of stdin (so it dies with a parent that
 * holds its stdin), after destroying the cluster and the librdkafka handle.
 * Exits 1 with one line on stderr on a bad option or a failed start-up.
 *
 * Written against librdkafka 2.0.2 (Debian bookworm's librdkafka-dev).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_LINE 1024
#define MAX_ARGS 8
#define MAX_BROKERS 64
#define MAX_PARTITIONS 10000
#define DEFAULT_PARTITIONS 1
#define MAX_DEFAULT_REPLICATION 3

static const char *prog = "dev-kafka";
static int signal_pipe[2] = {-1, -1};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static void die(const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "%s: ", prog);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

/* Parses a whole base-10 integer in [min, max]; returns 0 on success. */
static int parse_int(const char *s, long min, long max, long *out) {
        char *end;
        long v;

        if (!s || !*s)
                return -1;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

/* Kafka's legal topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
static int valid_topic_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 249 || !strcmp(s, ".") || !strcmp(s, ".."))
                return 0;
        for (; *s; s++) {
                char c = *s;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        return 0;
        }
        return 1;
}

/* Api keys by Kafka protocol name (numbers are accepted as well). */
static const struct {
        const char *name;
        int16_t key;
} api_keys[] = {
    {"Produce", 0},          {"Fetch", 1},
    {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8},     {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},       {"LeaveGroup", 13},
    {"SyncGroup", 14},       {"DescribeGroups", 15},
    {"ListGroups", 16},      {"ApiVersions", 18},
    {"CreateTopics", 19},    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23}, {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25}, {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
};

static int parse_api_key(const char *s, int16_t *out) {
        long v;
        size_t i;

        if (!parse_int(s, 0, 127, &v)) {
                *out = (int16_t)v;
                return 0;
        }
        for (i = 0; i < sizeof(api_keys) / sizeof(api_keys[0]); i++) {
                if (!strcasecmp(s, api_keys[i].name)) {
                        *out = api_keys[i].key;
                        return 0;
                }
        }
        return -1;
}

/* Error codes as numbers (Kafka protocol codes, or librdkafka's negative
 * local codes such as -195 _TRANSPORT, which makes the broker disconnect the
 * client) or by librdkafka name: NOT_LEADER_FOR_PARTITION, _TRANSPORT. */
static int parse_error_code(const char *s, rd_kafka_resp_err_t *out) {
        const struct rd_kafka_err_desc *descs;
        size_t cnt, i;
        long v;

        if (!parse_int(s, -200, 32767, &v)) {
                *out = (rd_kafka_resp_err_t)v;
                return 0;
        }
        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt; i++) {
                if (descs[i].name && !strcasecmp(s, descs[i].name)) {
                        *out = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

/* ------------------------------------------------------------------------ */
/* Command protocol                                                          */

/* Writes `OK` or `ERR <reason>` as one line and flushes. A failed write means
 * the reader is gone: stop serving. */
static int reply(const char *fmt, ...) {
        va_list ap;

        if (!fmt) {
                fputs("OK\n", stdout);
        } else {
                fputs("ERR ", stdout);
                va_start(ap, fmt);
                vfprintf(stdout, fmt, ap);
                va_end(ap);
                fputc('\n', stdout);
        }
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

static int reply_err(rd_kafka_resp_err_t err) {
        if (!err)
                return reply(NULL);
        return reply("%s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
}

#define USAGE_TOPIC "usage: topic <name> <partitions> [replication]"
#define USAGE_DOWN "usage: down <broker_id|-1>"
#define USAGE_UP "usage: up <broker_id|-1>"
#define USAGE_RTT "usage: rtt <broker_id|-1> <ms>"
#define USAGE_ERRORS "usage: errors <api_key> <error_code> [count]"
#define USAGE_CLEAR "usage: clear-errors <api_key>"
#define USAGE_BERRORS                                                          \
        "usage: broker-errors <broker_id> <api_key> <error_code> [count] "     \
        "[rtt_ms]"
#define USAGE_LEADER "usage: leader <topic> <partition> <broker_id|-1>"
#define USAGE_TOPIC_ERROR "usage: topic-error <topic> <error_code>"
#define USAGE_COORD "usage: coordinator <group|transaction> <key> <broker_id>"
#define USAGE_APIVER "usage: apiversion <api_key> <min|-1> <max|-1>"

/* Serves one command line; returns -1 when stdout is gone. */
static int serve_command(rd_kafka_mock_cluster_t *mc, int broker_cnt,
                         char *line) {
        char *argv[MAX_ARGS + 1];
        int argc = 0;
        char *save, *tok;
        const char *cmd;
        long a, b, c;
        int16_t api_key;
        rd_kafka_resp_err_t code;

        for (tok = strtok_r(line, " \t\r", &save); tok;
             tok = strtok_r(NULL, " \t\r", &save)) {
                if (argc == MAX_ARGS)
                        return reply("too many arguments");
                argv[argc++] = tok;
        }
        argv[argc] = NULL;
        if (argc == 0)
                return reply("empty command");
        cmd = argv[0];

        if (!strcmp(cmd, "ping"))
                return argc == 1 ? reply(NULL) : reply("usage: ping");

        if (!strcmp(cmd, "topic")) {
                c = broker_cnt < MAX_DEFAULT_REPLICATION
                        ? broker_cnt
                        : MAX_DEFAULT_REPLICATION;
                if (argc < 3 || argc > 4)
                        return reply(USAGE_TOPIC);
                if (!valid_topic_name(argv[1]))
                        return reply("invalid topic name '%s'", argv[1]);
                if (parse_int(argv[2], 1, MAX_PARTITIONS, &a))
                        return reply("partitions must be 1..%d",
                                     MAX_PARTITIONS);
                if (argc == 4 && parse_int(argv[3], 1, broker_cnt, &c))
                        return reply("replication must be 1..%d (brokers)",
                                     broker_cnt);
                return reply_err(
                    rd_kafka_mock_topic_create(mc, argv[1], (int)a, (int)c));
        }

        if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
                int down = cmd[0] == 'd';
                if (argc != 2 || parse_int(argv[1], -1, INT32_MAX, &a))
                        return reply(down ? USAGE_DOWN : USAGE_UP);
                return reply_err(
                    down ? rd_kafka_mock_broker_set_down(mc, (int32_t)a)
                         : rd_kafka_mock_broker_set_up(mc, (int32_t)a));
        }

        if (!strcmp(cmd, "rtt")) {
                if (argc != 3 || parse_int(argv[1], -1, INT32_MAX, &a) ||
                    parse_int(argv[2], 0, 3600 * 1000, &b))
                        return reply(USAGE_RTT);
                return reply_err(
                    rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b));
        }

        if (!strcmp(cmd, "errors")) {
                rd_kafka_resp_err_t *errs;
                long i;
                a = 1;
                if (argc < 3 || argc > 4 || parse_api_key(argv[1], &api_key) ||
                    parse_error_code(argv[2], &code) ||
                    (argc == 4 && parse_int(argv[3], 1, 100000, &a)))
                        return reply(USAGE_ERRORS);
                errs = malloc(sizeof(*errs) * (size_t)a);
                if (!errs)
                        return reply("out of memory");
                for (i = 0; i < a; i++)
                        errs[i] = code;
                rd_kafka_mock_push_request_errors_array(mc, api_key, (size_t)a,
                                                        errs);
                free(errs);
                return reply(NULL);
        }

        if (!strcmp(cmd, "clear-errors")) {
                if (argc != 2 || parse_api_key(argv[1], &api_key))
                        return reply(USAGE_CLEAR);
                rd_kafka_mock_clear_request_errors(mc, api_key);
                return reply(NULL);
        }

        if (!strcmp(cmd, "broker-errors")) {
                rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
                long i;
                b = 1; /* count */
                c = 0; /* rtt_ms */
                if (argc < 4 || argc > 6 ||
                    parse_int(argv[1], 0, INT32_MAX, &a) ||
                    parse_api_key(argv[2], &api_key) ||
                    parse_error_code(argv[3], &code) ||
                    (argc >= 5 && parse_int(argv[4], 1, 100000, &b)) ||
                    (argc == 6 && parse_int(argv[5], 0, 3600 * 1000, &c)))
                        return reply(USAGE_BERRORS);
                /* The va-arg API takes (err, rtt) tuples; push one at a time,
                 * the stack keeps their order. */
                for (i = 0; i < b && !err; i++)
                        err = rd_kafka_mock_broker_push_request_error_rtts(
                            mc, (int32_t)a, api_key, 1, code, (int)c);
                return reply_err(err);
        }

        if (!strcmp(cmd, "leader")) {
                if (argc != 4 || !valid_topic_name(argv[1]) ||
                    parse_int(argv[2], 0, MAX_PARTITIONS - 1, &a) ||
                    parse_int(argv[3], -1, INT32_MAX, &b))
                        return reply(USAGE_LEADER);
                return reply_err(rd_kafka_mock_partition_set_leader(
                    mc, argv[1], (int32_t)a, (int32_t)b));
        }

        if (!strcmp(cmd, "topic-error")) {
                if (argc != 3 || !valid_topic_name(argv[1]) ||
                    parse_error_code(argv[2], &code))
                        return reply(USAGE_TOPIC_ERROR);
                rd_kafka_mock_topic_set_error(mc, argv[1], code);
                return reply(NULL);
        }

        if (!strcmp(cmd, "coordinator")) {
                if (argc != 4 ||
                    (strcmp(argv[1], "group") &&
                     strcmp(argv[1], "transaction")) ||
                    parse_int(argv[3], -1, INT32_MAX, &a))
                        return reply(USAGE_COORD);
                return reply_err(rd_kafka_mock_coordinator_set(
                    mc, argv[1], argv[2], (int32_t)a));
        }

        if (!strcmp(cmd, "apiversion")) {
                if (argc != 4 || parse_api_key(argv[1], &api_key) ||
                    parse_int(argv[2], -1, 100, &a) ||
                    parse_int(argv[3], -1, 100, &b))
                        return reply(USAGE_APIVER);
                return reply_err(rd_kafka_mock_set_apiversion(
                    mc, api_key, (int16_t)a, (int16_t)b));
        }

        return reply("unknown command '%s' (commands: ping, topic, down, up, "
                     "rtt, errors, clear-errors, broker-errors, leader, "
                     "topic-error, coordinator, apiversion)",
                     cmd);
}

/* ------------------------------------------------------------------------ */
/* Start-up                                                                  */

struct topic_spec {
        char *name;
        long partitions;
        long replication; /* 0: default */
};

struct options {
        long brokers;
        long partitions;  /* default for --topics */
        long replication; /* 0: min(brokers, 3) */
        int debug;
        struct topic_spec *topics;
        size_t topic_cnt;
        char **csv_topics; /* --topics, resolved after all options are read */
        size_t csv_cnt;
};

static void usage(FILE *fp) {
        fprintf(fp,
                "usage: %s [--brokers N] [--topic NAME:PARTITIONS[:REPLICATION]]"
                "... [--topics A,B,...] [--partitions N] [--replication N] "
                "[--debug]\n",
                prog);
}

static void add_topic(struct options *o, char *name, long partitions,
                      long replication) {
        struct topic_spec *t =
            realloc(o->topics, sizeof(*t) * (o->topic_cnt + 1));
        if (!t)
                die("out of memory");
        o->topics                 = t;
        t[o->topic_cnt].name       = name;
        t[o->topic_cnt].partitions = partitions;
        t[o->topic_cnt].replication = replication;
        o->topic_cnt++;
}

/* --topic NAME:PARTITIONS[:REPLICATION] */
static void parse_topic_spec(struct options *o, char *spec) {
        char *p1 = strchr(spec, ':'), *p2;
        long parts, repl = 0;

        if (!p1)
                die("--topic '%s': expected NAME:PARTITIONS[:REPLICATION]",
                    spec);
        *p1++ = '\0';
        p2    = strchr(p1, ':');
        if (p2)
                *p2++ = '\0';
        if (!valid_topic_name(spec))
                die("--topic: invalid topic name '%s' (1-249 of a-z A-Z 0-9 . "
                    "_ -)",
                    spec);
        if (parse_int(p1, 1, MAX_PARTITIONS, &parts))
                die("--topic %s: partitions must be 1..%d, not '%s'", spec,
                    MAX_PARTITIONS, p1);
        if (p2 && parse_int(p2, 1, MAX_BROKERS, &repl))
                die("--topic %s: replication must be 1..%d, not '%s'", spec,
                    MAX_BROKERS, p2);
        add_topic(o, spec, parts, repl);
}

static void parse_options(int argc, char **argv, struct options *o) {
        static const struct option longopts[] = {
            {"brokers", required_argument, NULL, 'b'},
            {"topic", required_argument, NULL, 't'},
            {"topics", required_argument, NULL, 'T'},
            {"partitions", required_argument, NULL, 'p'},
            {"replication", required_argument, NULL, 'r'},
            {"debug", no_argument, NULL, 'd'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        int ch;
        size_t i;

        memset(o, 0, sizeof(*o));
        o->brokers    = 1;
        o->partitions = DEFAULT_PARTITIONS;

        opterr = 0;
        while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (ch) {
                case 'b':
                        if (parse_int(optarg, 1, MAX_BROKERS, &o->brokers))
                                die("--brokers must be 1..%d, not '%s'",
                                    MAX_BROKERS, optarg);
                        break;
                case 't':
                        parse_topic_spec(o, optarg);
                        break;
                case 'T': {
                        char **l = realloc(o->csv_topics,
                                           sizeof(*l) * (o->csv_cnt + 1));
                        if (!l)
                                die("out of memory");
                        o->csv_topics            = l;
                        o->csv_topics[o->csv_cnt++] = optarg;
                        break;
                }
                case 'p':
                        if (parse_int(optarg, 1, MAX_PARTITIONS,
                                      &o->partitions))
                                die("--partitions must be 1..%d, not '%s'",
                                    MAX_PARTITIONS, optarg);
                        break;
                case 'r':
                        if (parse_int(optarg, 1, MAX_BROKERS, &o->replication))
                                die("--replication must be 1..%d, not '%s'",
                                    MAX_BROKERS, optarg);
                        break;
                case 'd':
                        o->debug = 1;
                        break;
                case 'h':
                        usage(stdout);
                        exit(0);
                default:
                        die("unknown or incomplete option '%s' (see --help)",
                            argv[optind - 1]);
                }
        }
        if (optind < argc)
                die("unexpected argument '%s' (see --help)", argv[optind]);

        /* --topics uses the final --partitions, wherever it was given. */
        for (i = 0; i < o->csv_cnt; i++) {
                char *save, *name;
                for (name = strtok_r(o->csv_topics[i], ",", &save); name;
                     name = strtok_r(NULL, ",", &save)) {
                        if (!valid_topic_name(name))
                                die("--topics: invalid topic name '%s'", name);
                        add_topic(o, name, o->partitions, 0);
                }
        }

        if (!o->replication)
                o->replication = o->brokers < MAX_DEFAULT_REPLICATION
                                     ? o->brokers
                                     : MAX_DEFAULT_REPLICATION;
        if (o->replication > o->brokers)
                die("--replication %ld exceeds --brokers %ld", o->replication,
                    o->brokers);
        for (i = 0; i < o->topic_cnt; i++) {
                if (!o->topics[i].replication)
                        o->topics[i].replication = o->replication;
                if (o->topics[i].replication > o->brokers)
                        die("topic %s: replication %ld exceeds --brokers %ld",
                            o->topics[i].name, o->topics[i].replication,
                            o->brokers);
        }
}

static int log_debug; /* --debug: also pass notices and debug lines */

/* librdkafka's own lines, warnings and worse only: the hosting handle has no
 * bootstrap.servers by design, and its notice about that is noise. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf) {
        (void)rk;
        if (level > 4 && !log_debug)
                return;
        fprintf(stderr, "%s: rdkafka %d %s: %s\n", prog, level, fac, buf);
}

static void on_signal(int sig) {
        int saved = errno;
        char c    = (char)sig;
        if (write(signal_pipe[1], &c, 1) < 0) {
                /* Nothing to do: the pipe already holds a wake-up. */
        }
        errno = saved;
}

static void install_signals(void) {
        struct sigaction sa;
        int i;

        if (pipe(signal_pipe))
                die("pipe: %s", strerror(errno));
        for (i = 0; i < 2; i++) {
                fcntl(signal_pipe[i], F_SETFD, FD_CLOEXEC);
                fcntl(signal_pipe[i], F_SETFL,
                      fcntl(signal_pipe[i], F_GETFL) | O_NONBLOCK);
        }

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        /* A vanished reader must not kill us before the cluster is destroyed:
         * writes fail with EPIPE instead and the serve loop stops. */
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

/* Reads stdin line by line until EOF, a signal, or a vanished reader. */
static void serve(rd_kafka_mock_cluster_t *mc, int broker_cnt) {
        char buf[MAX_LINE + 1];
        size_t len      = 0;
        int discarding = 0; /* inside an over-long line */

        for (;;) {
                struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                        {.fd = signal_pipe[0], .events = POLLIN}};
                ssize_t n;
                char *start, *nl;

                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "%s: poll: %s\n", prog,
                                strerror(errno));
                        return;
                }
                if (fds[1].revents)
                        return; /* SIGTERM / SIGINT */
                if (!fds[0].revents)
                        continue;

                n = read(STDIN_FILENO, buf + len, MAX_LINE - len);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        fprintf(stderr, "%s: read stdin: %s\n", prog,
                                strerror(errno));
                        return;
                }
                if (n == 0) { /* EOF: serve a last unterminated line */
                        if (len > 0 && !discarding) {
                                buf[len] = '\0';
                                serve_command(mc, broker_cnt, buf);
                        }
                        return;
                }
                len += (size_t)n;
                buf[len] = '\0';

                start = buf;
                while ((nl = memchr(start, '\n', len - (size_t)(start - buf)))) {
                        *nl = '\0';
                        if (discarding) {
                                discarding = 0;
                                if (reply("line longer than %d bytes",
                                          MAX_LINE))
                                        return;
                        } else if (serve_command(mc, broker_cnt, start)) {
                                return;
                        }
                        start = nl + 1;
                }
                len -= (size_t)(start - buf);
                memmove(buf, start, len);
                if (len == MAX_LINE) { /* no newline in a full buffer */
                        discarding = 1;
                        len        = 0;
                }
        }
}

int main(int argc, char **argv) {
        struct options o;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc;
        char errstr[512];
        size_t i;

        parse_options(argc, argv, &o);
        install_signals();

        log_debug = o.debug;
        conf      = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, log_cb);
        if (o.debug && rd_kafka_conf_set(conf, "debug", "mock", errstr,
                                         sizeof(errstr)) != RD_KAFKA_CONF_OK)
                die("debug: %s", errstr);
        /* The handle only hosts the mock cluster; it never connects. */
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("rd_kafka_new: %s", errstr);

        mc = rd_kafka_mock_cluster_new(rk, (int)o.brokers);
        if (!mc) {
                rd_kafka_destroy(rk);
                die("rd_kafka_mock_cluster_new(%ld brokers) failed",
                    o.brokers);
        }

        for (i = 0; i < o.topic_cnt; i++) {
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
                    mc, o.topics[i].name, (int)o.topics[i].partitions,
                    (int)o.topics[i].replication);
                if (err) {
                        fprintf(stderr, "%s: topic %s: %s\n", prog,
                                o.topics[i].name, rd_kafka_err2str(err));
                        rd_kafka_mock_cluster_destroy(mc);
                        rd_kafka_destroy(rk);
                        return 1;
                }
        }

        printf("BOOTSTRAP=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        serve(mc, (int)o.brokers);

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        free(o.topics);
        free(o.csv_topics);
        return 0;
}

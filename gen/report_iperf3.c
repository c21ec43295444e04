/* report_iperf3.c - a run's report in iperf3 -J's layout, for scripts written for iperf3 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include "gen/report_iperf3.h"
#include "zcgen_version.h"

static double div0(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static json_t *connecting_to(const struct engine_plan *plan)
{
	char host[INET6_ADDRSTRLEN] = "";
	unsigned port = 0;

	if (plan->dest.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&plan->dest;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
	} else if (plan->dest.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&plan->dest;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
	}
	return json_pack("{s:s, s:i}", "host", host, "port", (int)port);
}

static json_t *start_json(const struct report_ctx *r, bool udp)
{
	const struct engine_plan *p = r->plan;
	struct utsname u;
	char sys[400] = "", tbuf[64];
	time_t now = time(NULL);
	json_t *conn = json_array();

	if (!uname(&u))
		snprintf(sys, sizeof(sys), "%s %s %s %s %s", u.sysname, u.nodename, u.release, u.version,
			 u.machine);
	strftime(tbuf, sizeof(tbuf), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now));
	for (unsigned i = 0; i < r->res->nq; i++)
		json_array_append_new(conn, json_pack("{s:i}", "socket", (int)i));
	return json_pack("{s:o, s:s, s:s, s:{s:s, s:I}, s:o, s:I, s:{s:s, s:i, s:I, s:f, s:f, s:I, s:i, s:i, s:i}}",
			 "connected", conn, "version", "zcgen " ZCGEN_VERSION,
			 "system_info", sys, "timestamp", "time", tbuf, "timesecs", (json_int_t)now,
			 "connecting_to", connecting_to(p),
			 "target_bitrate", (json_int_t)0,
			 "test_start", "protocol", udp ? "UDP" : "TCP", "num_streams", (int)r->res->nq,
			 "blksize", (json_int_t)p->msg_size, "omit", r->res->omitted_s,
			 "duration", r->res->duration_s, "bytes", (json_int_t)0, "blocks", 0,
			 "reverse", 0, "tos", 0);
}

/* One interval entry or end entry: iperf3's common fields. */
static json_t *span(double start, double end, uint64_t bytes, bool sender)
{
	return json_pack("{s:f, s:f, s:f, s:I, s:f, s:b, s:b}", "start", start, "end", end,
			 "seconds", end - start, "bytes", (json_int_t)bytes,
			 "bits_per_second", div0(bytes * 8.0, end - start), "omitted", 0, "sender", sender);
}

static json_t *intervals_json(const struct report_ctx *r, bool udp)
{
	const struct engine_result *res = r->res;
	json_t *a = json_array();

	for (unsigned k = 0; k < res->nint; k++) {
		const struct engine_interval *iv = &res->iv[k];
		json_t *streams = json_array(), *sum;
		uint64_t bytes = 0, sends = 0;

		for (unsigned q = 0; q < res->nq; q++) {
			json_t *s = span(iv->start_s, iv->end_s, iv->bytes[q], true);

			json_object_set_new(s, "socket", json_integer(q));
			if (udp)
				json_object_set_new(s, "packets",
						    json_integer((json_int_t)(iv->sends[q] * r->plan->gso)));
			json_array_append_new(streams, s);
			bytes += iv->bytes[q];
			sends += iv->sends[q];
		}
		sum = span(iv->start_s, iv->end_s, bytes, true);
		if (udp)
			json_object_set_new(sum, "packets", json_integer((json_int_t)(sends * r->plan->gso)));
		json_array_append_new(a, json_pack("{s:o, s:o}", "streams", streams, "sum", sum));
	}
	return a;
}

/* The receiver's view of queue @q: summed over the receiver's streams that are that queue's. */
static void rx_of_queue(const struct report_receiver *v, unsigned q, uint64_t *bytes,
			uint64_t *packets, uint64_t *lost, double *jitter)
{
	unsigned n = 0;

	*bytes = *packets = *lost = 0;
	*jitter = 0;
	for (unsigned i = 0; i < v->n; i++)
		if (v->streams[i].queue == q) {
			*bytes += v->streams[i].bytes;
			*packets += v->streams[i].packets;
			*lost += v->streams[i].lost;
			*jitter += v->streams[i].jitter_ms;
			n++;
		}
	if (n)
		*jitter /= n;
}

static void udp_fields(json_t *o, uint64_t packets, uint64_t lost, double jitter)
{
	json_object_set_new(o, "jitter_ms", json_real(jitter));
	json_object_set_new(o, "lost_packets", json_integer((json_int_t)lost));
	json_object_set_new(o, "packets", json_integer((json_int_t)(packets + lost)));
	json_object_set_new(o, "lost_percent", json_real(div0(100.0 * lost, packets + lost)));
}

static json_t *end_json(const struct report_ctx *r, bool udp)
{
	const struct engine_result *res = r->res;
	const struct report_receiver *v = r->receiver;
	double d = res->duration_s;
	json_t *streams = json_array(), *sent, *recvd, *end;
	uint64_t bytes = 0, dgrams = 0, retr = 0;

	for (unsigned q = 0; q < res->nq; q++) {
		const struct engine_queue_result *qr = &res->q[q];
		uint64_t rb = qr->bytes, rp = qr->datagrams, rl = 0;
		double rj = 0;
		json_t *s = span(0, d, qr->bytes, true), *rx;

		json_object_set_new(s, "socket", json_integer(q));
		if (v)
			rx_of_queue(v, q, &rb, &rp, &rl, &rj);
		rx = span(0, d, rb, true);
		json_object_set_new(rx, "socket", json_integer(q));
		if (udp) {
			udp_fields(s, qr->datagrams, 0, 0);
			json_object_set_new(s, "out_of_order", json_integer(0));
			json_array_append_new(streams, json_pack("{s:o}", "udp", s));
			json_decref(rx);
		} else {
			json_object_set_new(s, "retransmits", json_integer((json_int_t)qr->retransmits));
			json_array_append_new(streams, json_pack("{s:o, s:o}", "sender", s, "receiver", rx));
		}
		bytes += qr->bytes;
		dgrams += qr->datagrams;
		retr += qr->retransmits;
	}
	sent = span(0, d, bytes, true);
	recvd = span(0, d, v ? v->bytes : bytes, false);
	if (udp) {
		udp_fields(sent, dgrams, 0, 0);
		if (v)
			udp_fields(recvd, v->packets, v->lost, v->jitter_ms);
		else
			udp_fields(recvd, dgrams, 0, 0);
	} else {
		json_object_set_new(sent, "retransmits", json_integer((json_int_t)retr));
	}
	end = json_pack("{s:o, s:o, s:o}", "streams", streams, "sum_sent", sent, "sum_received", recvd);
	if (udp)
		json_object_set_new(end, "sum", json_deep_copy(recvd));
	if (r->cpu) {
		double user = div0(100 * r->cpu->proc_user_s, r->cpu->wall_s);
		double sys = div0(100 * r->cpu->proc_system_s, r->cpu->wall_s);

		json_object_set_new(end, "cpu_utilization_percent",
				    json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "host_total", user + sys,
					      "host_user", user, "host_system", sys, "remote_total", 0.0,
					      "remote_user", 0.0, "remote_system", 0.0));
	}
	if (!udp)
		json_object_set_new(end, "sender_tcp_congestion",
				    json_string(r->plan->so.congestion[0] ? r->plan->so.congestion :
						r->plan->so.congestion_default));
	return end;
}

json_t *report_iperf3_json(const struct report_ctx *r)
{
	bool udp = r->plan->prof.proto == GEN_PROTO_UDP;
	json_t *o = json_pack("{s:o, s:o, s:o}", "start", start_json(r, udp),
			      "intervals", intervals_json(r, udp), "end", end_json(r, udp));

	if (o)
		json_object_set_new(o, "zcgen", report_json(r));
	return o;
}

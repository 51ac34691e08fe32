/* Collectives family in C: counterpart of bench/coll.py.
 * Kinds: allreduce_buf (MPI_Allreduce, MPI_SUM, of param bytes of doubles)
 * and bcast_buf (MPI_Bcast of param bytes from rank 0).  Run on exactly 2
 * ranks. */
#include "bench.h"

typedef struct {
    double *send, *recv;
    unsigned char *buf;
    int n;
} coll_ctx;

static void allreduce_body(long count, void *p)
{
    coll_ctx *c = p;
    long i;
    for (i = 0; i < count; i++)
        MPI_Allreduce(c->send, c->recv, c->n, MPI_DOUBLE, MPI_SUM,
                      MPI_COMM_WORLD);
}

static void bcast_body(long count, void *p)
{
    coll_ctx *c = p;
    long i;
    for (i = 0; i < count; i++)
        MPI_Bcast(c->buf, c->n, MPI_BYTE, 0, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    int first = bench_init(&argc, &argv, "coll"), rank, a, i;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (a = first; a < argc; a++) {
        bench_case c;
        coll_ctx ctx;
        int ok = 1;
        bench_case_arg(argv[a], &c);
        memset(&ctx, 0, sizeof ctx);
        if (strcmp(c.kind, "allreduce_buf") == 0) {
            ctx.n = atoi(c.param) / 8 > 0 ? atoi(c.param) / 8 : 1;
            ctx.send = malloc(sizeof(double) * (size_t)ctx.n);
            ctx.recv = calloc((size_t)ctx.n, sizeof(double));
            for (i = 0; i < ctx.n; i++)
                ctx.send[i] = i + rank;
            allreduce_body(1, &ctx);
            for (i = 0; i < ctx.n; i++)
                ok = ok && ctx.recv[i] == 2.0 * i + 1;
            bench_run(&c, allreduce_body, &ctx, ok);
            free(ctx.send);
            free(ctx.recv);
        } else if (strcmp(c.kind, "bcast_buf") == 0) {
            ctx.n = atoi(c.param);
            ctx.buf = calloc((size_t)ctx.n + 1, 1);
            if (rank == 0)
                for (i = 0; i < ctx.n; i++)
                    ctx.buf[i] = (unsigned char)(((unsigned)i * 7u + 3u) % 251u);
            bcast_body(1, &ctx);
            for (i = 0; i < ctx.n; i++)
                ok = ok && ctx.buf[i] == (unsigned char)(((unsigned)i * 7u + 3u) % 251u);
            bench_run(&c, bcast_body, &ctx, ok);
            free(ctx.buf);
        } else if (rank == 0) {
            fprintf(stderr, "coll.c: skipping unsupported kind '%s'\n", c.kind);
        }
    }
    bench_finish();
    return 0;
}

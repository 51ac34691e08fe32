/* Shared helpers for the C benchmark programs (bench/c/<family>.c).
 *
 * Same methodology and output as bench/timing.py:
 *   - cases arrive on argv as kind:param:iters:reps:warmup
 *   - body(n) runs n iterations; warm-up first, then reps timed repetitions,
 *     each started right after an MPI_Barrier, timed with MPI_Wtime
 *   - rank 0 prints "BENCH_META {json}", one "BENCH_RESULT {json}" per case
 *     and "BENCH_DONE {}".
 * Usage: prog [--thread-level single|funneled|serialized|multiple] CASE...
 */
#ifndef FASTMPI_BENCH_H
#define FASTMPI_BENCH_H

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MPICH's MPI_STATUSES_IGNORE is (MPI_Status *)1, which GCC 12 reports as
 * an access to "a region of size 0" at every MPI_Waitall: a false alarm. */
#if defined(MPICH) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif

typedef struct {
    char kind[32];
    char param[32];
    long iters, reps, warmup;
    char id[72];
} bench_case;

typedef void (*bench_body)(long count, void *ctx);

static const char *bench_level_names[] = {"single", "funneled", "serialized",
                                          "multiple"};
static const int bench_levels[] = {MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED,
                                   MPI_THREAD_SERIALIZED, MPI_THREAD_MULTIPLE};

static int bench_parse_case(const char *text, bench_case *c)
{
    memset(c, 0, sizeof *c);
    if (sscanf(text, "%31[^:]:%31[^:]:%ld:%ld:%ld", c->kind, c->param,
               &c->iters, &c->reps, &c->warmup) != 5 ||
        c->iters < 1 || c->reps < 1 || c->warmup < 0 || c->reps > 1000)
        return -1;
    snprintf(c->id, sizeof c->id, "%s:%s", c->kind, c->param);
    return 0;
}

static void bench_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

/* Initialise MPI at the requested thread level (default MULTIPLE, like
 * fastmpi and mpi4py), print BENCH_META on rank 0.  Returns the index in
 * argv of the first case. */
static int bench_init(int *argc, char ***argv, const char *family)
{
    int requested = MPI_THREAD_MULTIPLE, provided, first = 1;
    if (*argc > 2 && strcmp((*argv)[1], "--thread-level") == 0) {
        int i;
        for (i = 0; i < 4; i++)
            if (strcmp((*argv)[2], bench_level_names[i]) == 0)
                requested = bench_levels[i];
        first = 3;
    }
    MPI_Init_thread(argc, argv, requested, &provided);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        char lib[MPI_MAX_LIBRARY_VERSION_STRING];
        int len, i;
        const char *level = "?";
        MPI_Get_library_version(lib, &len);
        lib[strcspn(lib, "\n")] = '\0';
        while (len > 0 && (lib[len - 1] == ' ' || lib[len - 1] == '\n'))
            lib[--len] = '\0';
        for (i = 0; i < 4; i++)
            if (provided == bench_levels[i])
                level = bench_level_names[i];
        printf("BENCH_META {\"family\": ");
        bench_json_string(family);
        printf(", \"impl\": \"C\", \"library\": ");
        bench_json_string(lib);
        printf(", \"thread_level\": \"%s\", \"version\": \"-O2\"}\n", level);
        fflush(stdout);
    }
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2) {
        if (rank == 0)
            fprintf(stderr, "%s needs exactly 2 ranks\n", family);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return first;
}

/* bench_parse_case, or end the job saying which case is bad. */
static void bench_case_arg(const char *text, bench_case *c)
{
    if (bench_parse_case(text, c) != 0) {
        int rank;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        if (rank == 0)
            fprintf(stderr, "bad case '%s'\n", text);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Warm-up, then reps timed repetitions; rank 0 prints the result line. */
static void bench_run(const bench_case *c, bench_body body, void *ctx, int valid)
{
    double us[1000], sorted[1000];
    long r;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    body(c->warmup, ctx);
    for (r = 0; r < c->reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        body(c->iters, ctx);
        double t1 = MPI_Wtime();
        us[r] = (t1 - t0) / (double)c->iters * 1e6;
    }
    if (rank != 0)
        return;
    memcpy(sorted, us, sizeof(double) * (size_t)c->reps);
    qsort(sorted, (size_t)c->reps, sizeof(double), bench_cmp_double);
    double median = c->reps % 2 ? sorted[c->reps / 2]
                                : 0.5 * (sorted[c->reps / 2 - 1] + sorted[c->reps / 2]);
    printf("BENCH_RESULT {\"case\": \"%s\", \"iters\": %ld, \"reps\": %ld, "
           "\"warmup\": %ld, \"median_us\": %.6f, \"min_us\": %.6f, "
           "\"max_us\": %.6f, \"valid\": %s, \"reps_us\": [",
           c->id, c->iters, c->reps, c->warmup, median, sorted[0],
           sorted[c->reps - 1], valid ? "true" : "false");
    for (r = 0; r < c->reps; r++)
        printf("%s%.4f", r ? ", " : "", us[r]);
    printf("]}\n");
    fflush(stdout);
}

static void bench_finish(void)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        printf("BENCH_DONE {}\n");
        fflush(stdout);
    }
    MPI_Finalize();
}

#endif

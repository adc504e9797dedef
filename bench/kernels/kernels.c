/*
 * Compute kernels for comparing compiled wasm with native code. Built twice
 * from this one file: natively with gcc -O2 (kernels-native) and for wasm32
 * with clang -O2 (kernels.wasm, no libc). Each kernel takes a size and
 * returns a checksum so both builds can be checked against each other.
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name))) uint32_t name(uint32_t n)
#ifndef __wasm__
#undef EXPORT
#define EXPORT(name) uint32_t name(uint32_t n)
#endif

static uint8_t heap[8 << 20];

static uint32_t fib_rec(uint32_t n)
{
    return n < 2 ? n : fib_rec(n - 1) + fib_rec(n - 2);
}

EXPORT(fib)
{
    return fib_rec(n);
}

EXPORT(sieve)
{
    uint32_t count = 0, size = sizeof heap;
    for (uint32_t rep = 0; rep < n; rep++) {
        for (uint32_t i = 0; i < size; i++)
            heap[i] = 1;
        count = 0;
        for (uint32_t i = 2; i < size; i++) {
            if (!heap[i])
                continue;
            count++;
            for (uint32_t j = 2 * i; j < size; j += i)
                heap[j] = 0;
        }
    }
    return count;
}

EXPORT(matmul)
{
    enum { N = 160 };
    double *a = (double *)heap, *b = a + N * N, *c = b + N * N;
    for (uint32_t i = 0; i < N * N; i++) {
        a[i] = (double)(i % 17) * 0.5;
        b[i] = (double)(i % 13) * 0.25;
    }
    double sum = 0;
    for (uint32_t rep = 0; rep < n; rep++) {
        for (uint32_t i = 0; i < N; i++)
            for (uint32_t j = 0; j < N; j++) {
                double s = 0;
                for (uint32_t k = 0; k < N; k++)
                    s += a[i * N + k] * b[k * N + j];
                c[i * N + j] = s;
            }
        sum += c[rep % (N * N)];
    }
    return (uint32_t)(int64_t)sum;
}

EXPORT(crc32)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t size = 1 << 20;
    for (uint32_t i = 0; i < size; i++)
        heap[i] = (uint8_t)(i * 2654435761u >> 24);
    uint32_t crc = 0;
    for (uint32_t rep = 0; rep < n; rep++) {
        crc = ~crc;
        for (uint32_t i = 0; i < size; i++)
            crc = table[(crc ^ heap[i]) & 0xff] ^ (crc >> 8);
        crc = ~crc;
    }
    return crc;
}

EXPORT(nbody)
{
    enum { B = 5 };
    double x[B], y[B], z[B], vx[B], vy[B], vz[B], m[B];
    for (int i = 0; i < B; i++) {
        x[i] = i * 1.1, y[i] = i * 0.7 - 1, z[i] = 0.3 * i;
        vx[i] = 0.01 * i, vy[i] = -0.02 * i, vz[i] = 0.005, m[i] = 1.0 + i;
    }
    for (uint32_t s = 0; s < n; s++) {
        for (int i = 0; i < B; i++)
            for (int j = i + 1; j < B; j++) {
                double dx = x[i] - x[j], dy = y[i] - y[j], dz = z[i] - z[j];
                double d2 = dx * dx + dy * dy + dz * dz + 0.01;
                double mag = 0.001 / (d2 * __builtin_sqrt(d2));
                vx[i] -= dx * m[j] * mag, vy[i] -= dy * m[j] * mag, vz[i] -= dz * m[j] * mag;
                vx[j] += dx * m[i] * mag, vy[j] += dy * m[i] * mag, vz[j] += dz * m[i] * mag;
            }
        for (int i = 0; i < B; i++)
            x[i] += 0.01 * vx[i], y[i] += 0.01 * vy[i], z[i] += 0.01 * vz[i];
    }
    return (uint32_t)(int64_t)((x[0] + y[1] + z[2]) * 1e6);
}

EXPORT(sort)
{
    uint32_t *v = (uint32_t *)heap, len = 1 << 20;
    uint32_t seed = 12345, sum = 0;
    for (uint32_t rep = 0; rep < n; rep++) {
        for (uint32_t i = 0; i < len; i++)
            v[i] = seed = seed * 1103515245u + 12345u;
        /* heapsort */
        for (uint32_t start = len / 2; start-- > 0;) {
            uint32_t root = start;
            for (uint32_t child; (child = 2 * root + 1) < len; root = child) {
                if (child + 1 < len && v[child] < v[child + 1])
                    child++;
                if (v[root] >= v[child])
                    break;
                uint32_t t = v[root]; v[root] = v[child]; v[child] = t;
            }
        }
        for (uint32_t end = len; end-- > 1;) {
            uint32_t t = v[0]; v[0] = v[end]; v[end] = t;
            uint32_t root = 0;
            for (uint32_t child; (child = 2 * root + 1) < end; root = child) {
                if (child + 1 < end && v[child] < v[child + 1])
                    child++;
                if (v[root] >= v[child])
                    break;
                t = v[root]; v[root] = v[child]; v[child] = t;
            }
        }
        sum += v[rep] ^ v[len / 2];
    }
    return sum;
}

/* SPDX-License-Identifier: MIT */
/*
 * The one hash table of the builder: open addressing with linear probing,
 * mapping a caller's 64-bit hash to ids (indexes into the caller's own
 * array).  The table never sees keys: a lookup yields every id stored
 * under the same hash and the caller compares keys, so one table serves
 * entries by (directory, name), xattr blocks, source (dev, ino) and data
 * by (size, content) alike, and a compare that can fail (reading a file
 * back) stays with the caller.  Nothing iterates over the slots, so
 * their order can never reach the image.
 */
#include "config.h"

#include <stdlib.h>

#include "mkxipfs.h"

#define HT_MIN_CAP 64

static size_t ht_home(const struct htable *t, uint64_t hash)
{
	return (size_t)hash & (t->cap - 1);
}

static void ht_place(struct htable *t, uint64_t hash, uint32_t id)
{
	size_t i = ht_home(t, hash);

	while (t->slots[i].id != NONE)
		i = (i + 1) & (t->cap - 1);
	t->slots[i].hash = hash;
	t->slots[i].id = id;
}

/* Double the slots and place every id again from its stored hash. */
static void ht_grow(struct htable *t)
{
	struct ht_slot *old = t->slots;
	size_t old_cap = t->cap;

	t->cap = old_cap ? old_cap * 2 : HT_MIN_CAP;
	t->slots = xrealloc_array(NULL, t->cap, sizeof(*t->slots));
	for (size_t i = 0; i < t->cap; i++)
		t->slots[i].id = NONE;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].id != NONE)
			ht_place(t, old[i].hash, old[i].id);
	free(old);
}

/* Store id under hash; the caller has looked it up first if it must be
 * unique.  At most half the slots are used, so probes stay short. */
void ht_insert(struct htable *t, uint64_t hash, uint32_t id)
{
	if ((t->count + 1) * 2 > t->cap)
		ht_grow(t);
	ht_place(t, hash, id);
	t->count++;
}

/* The next id stored under it->hash from it->slot on, or NONE. */
uint32_t ht_next(const struct htable *t, struct ht_iter *it)
{
	if (!t->cap)
		return NONE;
	for (size_t i = it->slot; t->slots[i].id != NONE;
	     i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].hash == it->hash) {
			it->slot = (i + 1) & (t->cap - 1);
			return t->slots[i].id;
		}
	}
	return NONE;
}

/* The first id stored under hash, or NONE; ht_next gives the others. */
uint32_t ht_first(const struct htable *t, uint64_t hash, struct ht_iter *it)
{
	it->hash = hash;
	it->slot = t->cap ? ht_home(t, hash) : 0;
	return ht_next(t, it);
}

void ht_free(struct htable *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->count = 0;
}

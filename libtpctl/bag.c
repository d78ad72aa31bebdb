// SPDX-License-Identifier: MIT
/*
 * The typed bag in memory: a sorted array of keys (struct bag_node), each
 * holding the decoded value of its kind, plus the atoms the level keeps
 * without understanding them.  Everything that touches the encoding lives
 * in bag_codec.c; this file is the object model and the mutators.
 *
 * Mutators allocate everything they need before changing anything, so a
 * failed allocation (-ENOMEM) leaves the bag exactly as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "bag_internal.h"

/* ---- owned byte strings ------------------------------------------------ */

int bag_bytes_append(struct bag_bytes **arr, size_t *n, const void *data, size_t len)
{
	struct bag_bytes *grown;
	uint8_t *copy;

	/* malloc(0) may return NULL; the overflow marker is a 0-byte atom. */
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	if (len)
		memcpy(copy, data, len);
	grown[*n].data = copy;
	grown[*n].len = len;
	*arr = grown;
	(*n)++;
	return 0;
}

void bag_bytes_free(struct bag_bytes *arr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(arr[i].data);
	free(arr);
}

/* ---- nodes ------------------------------------------------------------- */

struct bag_node *bag_node_new(const uint8_t *key, size_t key_len, enum tpctl_kind kind)
{
	struct bag_node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	node->key = malloc(key_len);
	if (!node->key) {
		free(node);
		return NULL;
	}
	memcpy(node->key, key, key_len);
	node->key_len = key_len;
	node->entry.key = node->key;
	node->entry.key_len = key_len;
	node->entry.kind = kind;
	return node;
}

void bag_node_free(struct bag_node *node)
{
	if (!node)
		return;
	bag_bytes_free(node->bodies, node->nvalues);
	free(node->values);
	free(node->components);
	bag_level_free(node->child);
	free(node->props);
	free(node->key);
	free(node);
}

/* The public view of an encoded scalar; it points into @body. */
static struct tpctl_value value_of_body(const struct bag_bytes *body)
{
	struct tpctl_value val = { .type = (enum tpctl_type)body->data[0] };

	switch (body->data[0]) {
	case BAG_T_INT:
		/* The sign bit is stored flipped so byte order is numeric order. */
		val.i = (int64_t)(bag_be64_get(body->data + 1) ^ (UINT64_C(1) << 63));
		break;
	case BAG_T_UINT:
		val.u = bag_be64_get(body->data + 1);
		break;
	default:
		val.bytes.ptr = body->data + 1;
		val.bytes.len = body->len - 1;
		break;
	}
	return val;
}

/* Adds an encoded scalar (type byte + payload) keeping the values sorted and distinct. */
int bag_node_add_value(struct bag_node *node, const uint8_t *body, size_t len)
{
	struct tpctl_value *values;
	struct bag_bytes *bodies;
	size_t pos = 0;
	uint8_t *copy;

	while (pos < node->nvalues) {
		int cmp = tp_atom_cmp(node->bodies[pos].data, node->bodies[pos].len, body, len);

		if (cmp == 0)
			return 0;
		if (cmp > 0)
			break;
		pos++;
	}
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	bodies = realloc(node->bodies, (node->nvalues + 1) * sizeof(*bodies));
	if (bodies)
		node->bodies = bodies;
	values = realloc(node->values, (node->nvalues + 1) * sizeof(*values));
	if (values)
		node->values = values;
	node->entry.values = node->values;
	if (!bodies || !values) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, body, len);
	memmove(bodies + pos + 1, bodies + pos, (node->nvalues - pos) * sizeof(*bodies));
	memmove(values + pos + 1, values + pos, (node->nvalues - pos) * sizeof(*values));
	bodies[pos].data = copy;
	bodies[pos].len = len;
	values[pos] = value_of_body(&bodies[pos]);
	node->entry.nvalues = ++node->nvalues;
	return 0;
}

/* The read value of a P-counter; saturates rather than wrapping. */
static void node_sum_components(struct bag_node *node)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < node->ncomponents; i++) {
		uint64_t v = node->components[i].value;

		sum = sum > UINT64_MAX - v ? UINT64_MAX : sum + v;
	}
	node->entry.counter = sum;
}

static struct bag_component *node_find_component(struct bag_node *node,
						 const uint8_t *replica, size_t len)
{
	for (size_t i = 0; i < node->ncomponents; i++) {
		struct bag_component *c = &node->components[i];

		if (c->replica_len == len && !memcmp(c->replica, replica, len))
			return c;
	}
	return NULL;
}

int bag_node_add_component(struct bag_node *node, const uint8_t *replica,
			   size_t replica_len, uint64_t value)
{
	struct bag_component *comps, *c = node_find_component(node, replica, replica_len);

	if (c) {
		if (value > UINT64_MAX - c->value)
			return -EOVERFLOW;
		c->value += value;
	} else {
		comps = realloc(node->components, (node->ncomponents + 1) * sizeof(*comps));
		if (!comps)
			return -ENOMEM;
		node->components = comps;
		c = &comps[node->ncomponents++];
		memcpy(c->replica, replica, replica_len);
		c->replica_len = (uint8_t)replica_len;
		c->value = value;
	}
	node_sum_components(node);
	return 0;
}

int bag_node_set_props(struct bag_node *node, const uint8_t *props, size_t len)
{
	char *copy = NULL;

	if (len) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, props, len);
		copy[len] = '\0';
	}
	free(node->props);
	node->props = copy;
	node->entry.w3c_properties = copy;
	return 0;
}

/* ---- levels ------------------------------------------------------------ */

struct tpctl_bag *bag_level_new(unsigned int depth)
{
	struct tpctl_bag *bag = calloc(1, sizeof(*bag));

	if (bag)
		bag->depth = depth;
	return bag;
}

void bag_level_free(struct tpctl_bag *bag)
{
	if (!bag)
		return;
	for (size_t i = 0; i < bag->nnodes; i++)
		bag_node_free(bag->nodes[i]);
	free(bag->nodes);
	bag_bytes_free(bag->opaque, bag->nopaque);
	bag_bytes_free(bag->foreign, bag->nforeign);
	free(bag);
}

/* Binary search; *pos is where @key is or would be inserted. */
static struct bag_node *level_find(const struct tpctl_bag *bag, const uint8_t *key,
				   size_t len, size_t *pos)
{
	size_t lo = 0, hi = bag->nnodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bag_node *n = bag->nodes[mid];
		int cmp = tp_atom_cmp(n->key, n->key_len, key, len);

		if (cmp == 0) {
			*pos = mid;
			return bag->nodes[mid];
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return NULL;
}

static int level_reserve(struct tpctl_bag *bag)
{
	struct bag_node **nodes;
	size_t cap;

	if (bag->nnodes < bag->cap)
		return 0;
	cap = bag->cap ? bag->cap * 2 : 8;
	nodes = realloc(bag->nodes, cap * sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	bag->nodes = nodes;
	bag->cap = cap;
	return 0;
}

int bag_level_insert(struct tpctl_bag *bag, struct bag_node *node)
{
	size_t pos;
	int err = level_reserve(bag);

	if (err)
		return err;
	level_find(bag, node->key, node->key_len, &pos);
	memmove(bag->nodes + pos + 1, bag->nodes + pos, (bag->nnodes - pos) * sizeof(*bag->nodes));
	bag->nodes[pos] = node;
	bag->nnodes++;
	return 0;
}

/* Drops the atoms kept verbatim under @key; returns how many. */
static size_t level_drop_opaque_key(struct tpctl_bag *bag, const uint8_t *key, size_t len)
{
	size_t kept = 0, dropped;

	for (size_t i = 0; i < bag->nopaque; i++) {
		struct bag_elem_info info;
		struct bag_bytes *e = &bag->opaque[i];

		if (bag_elem_parse(e->data, e->len, bag->depth, &info) &&
		    info.key_len == len && !memcmp(info.key, key, len))
			free(e->data);
		else
			bag->opaque[kept++] = *e;
	}
	dropped = bag->nopaque - kept;
	bag->nopaque = kept;
	return dropped;
}

/*
 * Makes @node the whole content of its key: an older node and any atom
 * kept verbatim under that key go.  Cannot fail once the array has room.
 */
static int level_put(struct tpctl_bag *bag, struct bag_node *node)
{
	struct bag_node *old;
	size_t pos;
	int err = level_reserve(bag);

	if (err)
		return err;
	level_drop_opaque_key(bag, node->key, node->key_len);
	old = level_find(bag, node->key, node->key_len, &pos);
	if (old) {
		bag_node_free(old);
		bag->nodes[pos] = node;
		return 0;
	}
	return bag_level_insert(bag, node);
}

/* ---- public API: life cycle and reads ----------------------------------- */

static int key_check(const char *key, size_t *len)
{
	if (!key)
		return -EINVAL;
	*len = strnlen(key, BAG_KEY_MAX + 1);
	return *len >= 1 && *len <= BAG_KEY_MAX ? 0 : -EINVAL;
}

struct tpctl_bag *tpctl_bag_new(void)
{
	return bag_level_new(1);
}

void tpctl_bag_free(struct tpctl_bag *bag)
{
	bag_level_free(bag);
}

const struct tpctl_entry *tpctl_bag_lookup(const struct tpctl_bag *bag, const char *key)
{
	const struct bag_node *node;
	size_t len, pos;

	if (!bag || key_check(key, &len))
		return NULL;
	node = level_find(bag, (const uint8_t *)key, len, &pos);
	return node ? &node->entry : NULL;
}

int tpctl_bag_foreach(const struct tpctl_bag *bag,
		      int (*fn)(const struct tpctl_entry *entry, void *arg), void *arg)
{
	if (!bag || !fn)
		return -EINVAL;
	for (size_t i = 0; i < bag->nnodes; i++) {
		int ret = fn(&bag->nodes[i]->entry, arg);

		if (ret)
			return ret;
	}
	return 0;
}

size_t tpctl_bag_nkeys(const struct tpctl_bag *bag)
{
	return bag ? bag->nnodes : 0;
}

int tpctl_bag_overflowed(const struct tpctl_bag *bag)
{
	/* Foreign atoms are sorted, so the empty overflow marker comes first. */
	return bag && bag->nforeign && bag->foreign[0].len == 0;
}

/* ---- public API: FIRST and SET ------------------------------------------ */

/* Encodes a scalar as its atom body: type byte + payload. */
struct scalar {
	uint8_t head[9];	/* type byte, then an 8-byte number if any */
	const void *tail;	/* string and bytes payload */
	size_t tail_len;
};

static int scalar_bytes(struct scalar *s, enum bag_type_byte type, const void *val, size_t len)
{
	if (!val && len)
		return -EINVAL;
	if (len > BAG_VALUE_MAX)
		return -E2BIG;
	s->head[0] = type;
	s->tail = val;
	s->tail_len = len;
	return 0;
}

static void scalar_number(struct scalar *s, enum bag_type_byte type, uint64_t v)
{
	s->head[0] = type;
	bag_be64_put(s->head + 1, v);
	s->tail = NULL;
	s->tail_len = 0;
}

static size_t scalar_len(const struct scalar *s)
{
	return s->tail ? 1 + s->tail_len : sizeof(s->head);
}

/* Adds @s to @node, flattening it into one buffer first. */
static int node_add_scalar(struct bag_node *node, const struct scalar *s)
{
	uint8_t small[sizeof(s->head)], *body = small;
	size_t len = scalar_len(s);
	int err;

	if (s->tail) {
		body = malloc(len);
		if (!body)
			return -ENOMEM;
		body[0] = s->head[0];
		memcpy(body + 1, s->tail, s->tail_len);
	} else {
		memcpy(small, s->head, len);
	}
	err = bag_node_add_value(node, body, len);
	if (body != small)
		free(body);
	return err;
}

static int bag_set_scalar(struct tpctl_bag *bag, const char *key, const struct scalar *s)
{
	struct bag_node *node;
	size_t len;
	int err;

	if (!bag || key_check(key, &len))
		return -EINVAL;
	node = bag_node_new((const uint8_t *)key, len, TPCTL_FIRST);
	if (!node)
		return -ENOMEM;
	err = node_add_scalar(node, s);
	if (!err)
		err = level_put(bag, node);
	if (err)
		bag_node_free(node);
	return err;
}

/*
 * Finds the node of @key when it has @kind, or creates one (not yet in the
 * bag: *created is set and the caller inserts it with level_put()).
 */
static int node_for_update(struct tpctl_bag *bag, const char *key, enum tpctl_kind kind,
			   struct bag_node **node, bool *created)
{
	size_t len, pos;

	if (!bag || key_check(key, &len))
		return -EINVAL;
	*node = level_find(bag, (const uint8_t *)key, len, &pos);
	*created = !*node;
	if (*node)
		return (*node)->entry.kind == kind ? 0 : -EEXIST;
	*node = bag_node_new((const uint8_t *)key, len, kind);
	return *node ? 0 : -ENOMEM;
}

/* Inserts a node made by node_for_update(), or frees it on failure. */
static int node_commit(struct tpctl_bag *bag, struct bag_node *node, bool created, int err)
{
	if (!created)
		return err;
	if (!err)
		err = level_put(bag, node);
	if (err)
		bag_node_free(node);
	return err;
}

static int bag_add_scalar(struct tpctl_bag *bag, const char *key, const struct scalar *s)
{
	struct bag_node *node;
	bool created;
	int err = node_for_update(bag, key, TPCTL_SET, &node, &created);

	if (err)
		return err;
	return node_commit(bag, node, created, node_add_scalar(node, s));
}

int tpctl_bag_set_string(struct tpctl_bag *bag, const char *key, const char *val)
{
	struct scalar s;
	int err;

	if (!val)
		return -EINVAL;
	err = scalar_bytes(&s, BAG_T_STRING, val, strnlen(val, BAG_VALUE_MAX + 1));
	return err ? err : bag_set_scalar(bag, key, &s);
}

int tpctl_bag_set_bytes(struct tpctl_bag *bag, const char *key, const void *val, size_t len)
{
	struct scalar s;
	/* An empty value still needs a non-NULL tail to be a bytes scalar. */
	int err = scalar_bytes(&s, BAG_T_BYTES, len ? val : "", len);

	return err ? err : bag_set_scalar(bag, key, &s);
}

int tpctl_bag_set_int(struct tpctl_bag *bag, const char *key, int64_t val)
{
	struct scalar s;

	scalar_number(&s, BAG_T_INT, (uint64_t)val ^ (UINT64_C(1) << 63));
	return bag_set_scalar(bag, key, &s);
}

int tpctl_bag_set_uint(struct tpctl_bag *bag, const char *key, uint64_t val)
{
	struct scalar s;

	scalar_number(&s, BAG_T_UINT, val);
	return bag_set_scalar(bag, key, &s);
}

int tpctl_bag_add_string(struct tpctl_bag *bag, const char *key, const char *val)
{
	struct scalar s;
	int err;

	if (!val)
		return -EINVAL;
	err = scalar_bytes(&s, BAG_T_STRING, val, strnlen(val, BAG_VALUE_MAX + 1));
	return err ? err : bag_add_scalar(bag, key, &s);
}

int tpctl_bag_add_bytes(struct tpctl_bag *bag, const char *key, const void *val, size_t len)
{
	struct scalar s;
	int err = scalar_bytes(&s, BAG_T_BYTES, len ? val : "", len);

	return err ? err : bag_add_scalar(bag, key, &s);
}

int tpctl_bag_add_int(struct tpctl_bag *bag, const char *key, int64_t val)
{
	struct scalar s;

	scalar_number(&s, BAG_T_INT, (uint64_t)val ^ (UINT64_C(1) << 63));
	return bag_add_scalar(bag, key, &s);
}

int tpctl_bag_add_uint(struct tpctl_bag *bag, const char *key, uint64_t val)
{
	struct scalar s;

	scalar_number(&s, BAG_T_UINT, val);
	return bag_add_scalar(bag, key, &s);
}

/* ---- public API: COUNTER, TAINT, properties, nesting, removal ------------- */

int tpctl_bag_counter_add_replica(struct tpctl_bag *bag, const char *key,
				  const void *replica, size_t replica_len, uint64_t delta)
{
	struct bag_node *node;
	bool created;
	int err;

	if (!replica || replica_len < 1 || replica_len > BAG_REPLICA_MAX)
		return -EINVAL;
	err = node_for_update(bag, key, TPCTL_COUNTER, &node, &created);
	if (err)
		return err;
	return node_commit(bag, node, created,
			   bag_node_add_component(node, replica, replica_len, delta));
}

int tpctl_bag_counter_add(struct tpctl_bag *bag, const char *key, uint64_t delta)
{
	uint8_t replica[BAG_REPLICA_MAX];
	size_t len;
	int err = bag_replica_id(replica, &len);

	return err ? err : tpctl_bag_counter_add_replica(bag, key, replica, len, delta);
}

int tpctl_bag_taint(struct tpctl_bag *bag, const char *key)
{
	struct bag_node *node;
	bool created;
	int err = node_for_update(bag, key, TPCTL_TAINT, &node, &created);

	return err ? err : node_commit(bag, node, created, 0);
}

int tpctl_bag_set_w3c_properties(struct tpctl_bag *bag, const char *key, const char *props)
{
	struct bag_node *node;
	size_t len, pos, plen;

	if (!bag || key_check(key, &len))
		return -EINVAL;
	plen = props ? strnlen(props, BAG_VALUE_MAX + 1) : 0;
	if (plen > BAG_VALUE_MAX)
		return -E2BIG;
	node = level_find(bag, (const uint8_t *)key, len, &pos);
	if (!node)
		return -ENOENT;
	return bag_node_set_props(node, (const uint8_t *)props, plen);
}

struct tpctl_bag *tpctl_bag_child(struct tpctl_bag *bag, const char *key)
{
	struct bag_node *node;
	bool created;
	int err;

	/* A child's keys would sit one level deeper than the deepest allowed. */
	if (bag && bag->depth >= BAG_DEPTH_MAX) {
		errno = E2BIG;
		return NULL;
	}
	err = node_for_update(bag, key, TPCTL_BAG, &node, &created);
	if (!err && created) {
		node->child = bag_level_new(bag->depth + 1);
		node->entry.child = node->child;
		err = node_commit(bag, node, created, node->child ? 0 : -ENOMEM);
	}
	if (err) {
		errno = -err;
		return NULL;
	}
	return node->child;
}

int tpctl_bag_remove(struct tpctl_bag *bag, const char *key)
{
	struct bag_node *node;
	size_t len, pos, dropped;

	if (!bag || key_check(key, &len))
		return -EINVAL;
	dropped = level_drop_opaque_key(bag, (const uint8_t *)key, len);
	node = level_find(bag, (const uint8_t *)key, len, &pos);
	if (!node)
		return dropped ? 0 : -ENOENT;
	bag_node_free(node);
	memmove(bag->nodes + pos, bag->nodes + pos + 1,
		(bag->nnodes - pos - 1) * sizeof(*bag->nodes));
	bag->nnodes--;
	return 0;
}

/* ---- public API: merge ---------------------------------------------------- */

static int blob_of_bag(const struct tpctl_bag *bag, struct tp_bag **blob)
{
	void *buf;
	size_t len;
	int err = tpctl_bag_encode(bag, &buf, &len);

	if (err)
		return err;
	err = bag_atom_errno(tp_bag_deserialize(buf, len, GFP_KERNEL, blob));
	free(buf);
	return err;
}

int tpctl_bag_merge(struct tpctl_bag *dst, const struct tpctl_bag *src)
{
	struct tp_bag *a = NULL, *b = NULL, *sum = NULL;
	struct tpctl_bag *merged = NULL, old;
	int err;

	/* The union is a top-level baggage: it may hold foreign atoms. */
	if (!dst || !src || dst->depth != 1)
		return -EINVAL;
	err = blob_of_bag(dst, &a);
	if (!err)
		err = blob_of_bag(src, &b);
	if (!err)
		err = bag_atom_errno(tp_bag_merge(a, b, GFP_KERNEL, &sum));
	if (!err)
		err = tpctl_bag_decode(sum ? sum->data : NULL, tp_bag_size(sum), &merged);
	tp_bag_put(sum);
	tp_bag_put(b);
	tp_bag_put(a);
	if (err)
		return err;
	old = *dst;
	*dst = *merged;
	*merged = old;
	tpctl_bag_free(merged);
	return 0;
}

/* powercut: a SQLite VFS that loses what was never synced (test only).
 *
 * LD_PRELOADed into the real commentd, a constructor registers this VFS as
 * the default, wrapping "unix".  Every named file (database, WAL, rollback
 * journal) gets an in-memory image shared by all handles of that path in the
 * process, the way the kernel's page cache is: reads see the image, writes
 * and truncations change only the image, and only xSync copies the image to
 * the real file (then syncs that).  Killing the process with SIGKILL is then
 * a power cut: the real files hold exactly what was synced, as a disk does
 * after the power goes.  SQLite's own crash tests (test6.c) work the same way.
 *
 * Environment:
 *   POWERCUT_WRITEBACK=P  with probability P percent per write, one dirty
 *                         block of that file reaches the real file early,
 *                         without a sync (the kernel's write-back: some
 *                         unsynced writes survive a power cut, in any order,
 *                         torn at block boundaries).  Default 0.
 *   POWERCUT_DROP_SYNC=1  xSync does nothing (a disk that lies about fsync):
 *                         the test's control, proving it sees lost data.
 *
 * The -shm file is delegated unchanged: SQLite rebuilds the WAL index after
 * a crash.  Temporary files (no name) are delegated too.  Memory-mapped I/O
 * is not offered (io_methods version 2), so every read goes through xRead.
 * Images are kept for the life of the process (as the page cache keeps a
 * closed file) and dropped by xDelete.  Never installed.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096

struct image {
	char *path;
	unsigned char *data;
	sqlite3_int64 size; /* the file as the process sees it */
	sqlite3_int64 capacity;
	unsigned char *dirty;  /* one flag per BLOCK not yet on disk */
	sqlite3_int64 n_dirty; /* flags allocated */
	bool size_changed;     /* the real file's size differs */
	unsigned refs;	       /* open handles, plus one while in the table */
	struct image *next;
};

struct pc_file {
	sqlite3_file base;
	struct image *img; /* NULL: delegated unchanged */
	sqlite3_file *real;
};

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs pc_vfs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct image *images;
static unsigned writeback_percent;
static bool drop_sync;
static unsigned rng_state = 1;

static unsigned next_random(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 16) & 0x7fff;
}

static int grow(struct image *img, sqlite3_int64 size)
{
	sqlite3_int64 blocks = (size + BLOCK - 1) / BLOCK;

	if (size > img->capacity) {
		sqlite3_int64 cap = img->capacity ? img->capacity : 65536;
		unsigned char *p;
		while (cap < size)
			cap *= 2;
		p = realloc(img->data, (size_t)cap);
		if (!p)
			return SQLITE_NOMEM;
		memset(p + img->capacity, 0, (size_t)(cap - img->capacity));
		img->data = p;
		img->capacity = cap;
	}
	if (blocks > img->n_dirty) {
		unsigned char *d = realloc(img->dirty, (size_t)blocks);
		if (!d)
			return SQLITE_NOMEM;
		memset(d + img->n_dirty, 0, (size_t)(blocks - img->n_dirty));
		img->dirty = d;
		img->n_dirty = blocks;
	}
	return SQLITE_OK;
}

/* Loads the real file into a new image.  Called with lock held. */
static struct image *image_load(sqlite3_file *real, const char *path)
{
	struct image *img = calloc(1, sizeof(*img));
	sqlite3_int64 size = 0;

	if (!img || !(img->path = strdup(path)))
		goto fail;
	if (real->pMethods->xFileSize(real, &size) != SQLITE_OK || grow(img, size) != SQLITE_OK)
		goto fail;
	if (size && real->pMethods->xRead(real, img->data, (int)size, 0) != SQLITE_OK)
		goto fail;
	img->size = size;
	img->refs = 1;
	img->next = images;
	images = img;
	return img;
fail:
	if (img) {
		free(img->path);
		free(img->data);
		free(img->dirty);
	}
	free(img);
	return NULL;
}

static struct image *image_find(const char *path)
{
	for (struct image *i = images; i; i = i->next)
		if (strcmp(i->path, path) == 0)
			return i;
	return NULL;
}

static void image_unref(struct image *img)
{
	if (--img->refs)
		return;
	free(img->path);
	free(img->data);
	free(img->dirty);
	free(img);
}

/* Copies dirty block b to the real file (no sync).  Called with lock held. */
static int flush_block(struct pc_file *f, sqlite3_int64 b)
{
	struct image *img = f->img;
	sqlite3_int64 off = b * BLOCK;
	sqlite3_int64 n = img->size - off;
	int rc;

	img->dirty[b] = 0;
	if (n <= 0)
		return SQLITE_OK;
	if (n > BLOCK)
		n = BLOCK;
	rc = f->real->pMethods->xWrite(f->real, img->data + off, (int)n, off);
	if (rc != SQLITE_OK)
		img->dirty[b] = 1;
	return rc;
}

static int pc_close(sqlite3_file *file)
{
	struct pc_file *f = (struct pc_file *)file;
	int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;

	if (f->img) {
		pthread_mutex_lock(&lock);
		image_unref(f->img);
		pthread_mutex_unlock(&lock);
		f->img = NULL;
	}
	return rc;
}

static int pc_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
	struct pc_file *f = (struct pc_file *)file;
	struct image *img = f->img;
	sqlite3_int64 have;
	int rc = SQLITE_OK;

	if (!img)
		return f->real->pMethods->xRead(f->real, buf, amt, off);
	pthread_mutex_lock(&lock);
	have = img->size - off;
	if (have < 0)
		have = 0;
	if (have > amt)
		have = amt;
	memcpy(buf, img->data + off, (size_t)have);
	if (have < amt) {
		memset((char *)buf + have, 0, (size_t)(amt - have));
		rc = SQLITE_IOERR_SHORT_READ;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static int pc_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	struct pc_file *f = (struct pc_file *)file;
	struct image *img = f->img;
	int rc;

	if (!img)
		return f->real->pMethods->xWrite(f->real, buf, amt, off);
	pthread_mutex_lock(&lock);
	rc = grow(img, off + amt);
	if (rc == SQLITE_OK) {
		memcpy(img->data + off, buf, (size_t)amt);
		if (off + amt > img->size) {
			img->size = off + amt;
			img->size_changed = true;
		}
		for (sqlite3_int64 b = off / BLOCK; b <= (off + amt - 1) / BLOCK; b++)
			img->dirty[b] = 1;
		if (writeback_percent && next_random() % 100 < writeback_percent) {
			sqlite3_int64 b = next_random() % img->n_dirty;
			if (img->dirty[b] && !img->size_changed)
				rc = flush_block(f, b);
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static int pc_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct pc_file *f = (struct pc_file *)file;
	struct image *img = f->img;

	if (!img)
		return f->real->pMethods->xTruncate(f->real, size);
	pthread_mutex_lock(&lock);
	if (size < img->size) {
		memset(img->data + size, 0, (size_t)(img->size - size));
		img->size = size;
		img->size_changed = true;
	}
	pthread_mutex_unlock(&lock);
	return SQLITE_OK;
}

static int pc_sync(sqlite3_file *file, int flags)
{
	struct pc_file *f = (struct pc_file *)file;
	struct image *img = f->img;
	int rc = SQLITE_OK;

	if (!img)
		return f->real->pMethods->xSync(f->real, flags);
	if (drop_sync)
		return SQLITE_OK;
	pthread_mutex_lock(&lock);
	for (sqlite3_int64 b = 0; b < img->n_dirty && rc == SQLITE_OK; b++)
		if (img->dirty[b])
			rc = flush_block(f, b);
	if (rc == SQLITE_OK && img->size_changed) {
		rc = f->real->pMethods->xTruncate(f->real, img->size);
		if (rc == SQLITE_OK)
			img->size_changed = false;
	}
	if (rc == SQLITE_OK)
		rc = f->real->pMethods->xSync(f->real, flags);
	pthread_mutex_unlock(&lock);
	return rc;
}

static int pc_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct pc_file *f = (struct pc_file *)file;

	if (!f->img)
		return f->real->pMethods->xFileSize(f->real, size);
	pthread_mutex_lock(&lock);
	*size = f->img->size;
	pthread_mutex_unlock(&lock);
	return SQLITE_OK;
}

static int pc_lock(sqlite3_file *file, int level)
{
	struct pc_file *f = (struct pc_file *)file;
	return f->real->pMethods->xLock(f->real, level);
}

static int pc_unlock(sqlite3_file *file, int level)
{
	struct pc_file *f = (struct pc_file *)file;
	return f->real->pMethods->xUnlock(f->real, level);
}

static int pc_check_reserved(sqlite3_file *file, int *out)
{
	struct pc_file *f = (struct pc_file *)file;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int pc_file_control(sqlite3_file *file, int op, void *arg)
{
	struct pc_file *f = (struct pc_file *)file;

	/* Size hints and chunk sizes would extend the real file behind the
	 * image's back. */
	if (f->img && (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_CHUNK_SIZE))
		return SQLITE_OK;
	if (op == SQLITE_FCNTL_MMAP_SIZE) {
		*(sqlite3_int64 *)arg = 0;
		return SQLITE_OK;
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int pc_sector_size(sqlite3_file *file)
{
	struct pc_file *f = (struct pc_file *)file;
	return f->real->pMethods->xSectorSize(f->real);
}

static int pc_device_characteristics(sqlite3_file *file)
{
	struct pc_file *f = (struct pc_file *)file;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int pc_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
	struct pc_file *f = (struct pc_file *)file;
	return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int pc_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct pc_file *f = (struct pc_file *)file;
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void pc_shm_barrier(sqlite3_file *file)
{
	struct pc_file *f = (struct pc_file *)file;
	f->real->pMethods->xShmBarrier(f->real);
}

static int pc_shm_unmap(sqlite3_file *file, int delete_flag)
{
	struct pc_file *f = (struct pc_file *)file;
	return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static const sqlite3_io_methods pc_methods = {
    .iVersion = 2,
    .xClose = pc_close,
    .xRead = pc_read,
    .xWrite = pc_write,
    .xTruncate = pc_truncate,
    .xSync = pc_sync,
    .xFileSize = pc_file_size,
    .xLock = pc_lock,
    .xUnlock = pc_unlock,
    .xCheckReservedLock = pc_check_reserved,
    .xFileControl = pc_file_control,
    .xSectorSize = pc_sector_size,
    .xDeviceCharacteristics = pc_device_characteristics,
    .xShmMap = pc_shm_map,
    .xShmLock = pc_shm_lock,
    .xShmBarrier = pc_shm_barrier,
    .xShmUnmap = pc_shm_unmap,
};

static int pc_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		   int *out_flags)
{
	struct pc_file *f = (struct pc_file *)file;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		f->base.pMethods = NULL;
		return rc;
	}
	f->base.pMethods = &pc_methods;
	if (!name || (flags & SQLITE_OPEN_DELETEONCLOSE))
		return SQLITE_OK;
	pthread_mutex_lock(&lock);
	f->img = image_find(name);
	if (!f->img)
		f->img = image_load(f->real, name);
	if (f->img)
		f->img->refs++;
	pthread_mutex_unlock(&lock);
	if (!f->img) {
		f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return SQLITE_IOERR_NOMEM;
	}
	return SQLITE_OK;
}

static int pc_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	struct image **p;

	(void)vfs;
	pthread_mutex_lock(&lock);
	for (p = &images; *p; p = &(*p)->next) {
		if (strcmp((*p)->path, name) == 0) {
			struct image *img = *p;
			*p = img->next;
			image_unref(img);
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return unix_vfs->xDelete(unix_vfs, name, sync_dir);
}

/* "Exists" must follow the image: unix asks the real file, which may still
 * be empty while the image holds a WAL. */
static int pc_access(sqlite3_vfs *vfs, const char *name, int what, int *out)
{
	struct image *img;

	(void)vfs;
	if (what == SQLITE_ACCESS_EXISTS) {
		pthread_mutex_lock(&lock);
		img = image_find(name);
		if (img)
			*out = img->size > 0;
		pthread_mutex_unlock(&lock);
		if (img)
			return SQLITE_OK;
	}
	return unix_vfs->xAccess(unix_vfs, name, what, out);
}

__attribute__((constructor)) static void powercut_register(void)
{
	const char *wb = getenv("POWERCUT_WRITEBACK");
	const char *ds = getenv("POWERCUT_DROP_SYNC");

	unix_vfs = sqlite3_vfs_find("unix");
	if (!unix_vfs) {
		fprintf(stderr, "powercut: no unix VFS\n");
		abort();
	}
	pc_vfs = *unix_vfs;
	pc_vfs.iVersion = unix_vfs->iVersion < 3 ? unix_vfs->iVersion : 3;
	pc_vfs.szOsFile = (int)sizeof(struct pc_file) + unix_vfs->szOsFile;
	pc_vfs.zName = "powercut";
	pc_vfs.pNext = NULL;
	pc_vfs.xOpen = pc_open;
	pc_vfs.xDelete = pc_delete;
	pc_vfs.xAccess = pc_access;
	writeback_percent = wb ? (unsigned)strtoul(wb, NULL, 10) : 0;
	drop_sync = ds && strcmp(ds, "1") == 0;
	rng_state = (unsigned)getpid();
	if (sqlite3_vfs_register(&pc_vfs, 1) != SQLITE_OK) {
		fprintf(stderr, "powercut: cannot register the VFS\n");
		abort();
	}
	fprintf(stderr, "powercut: VFS registered (write-back %u%%%s)\n", writeback_percent,
		drop_sync ? ", syncs dropped" : "");
}

/*
 * sim_tree.c - the WindowsImageBackup\<machine> tree of one version, as
 * WBADMIN.md lays it out. Every byte is a function of (machine name, image
 * size of the lineage, version number, backup time, domain controller), so
 * a recovery can regenerate what a backup wrote and compare it byte for
 * byte. Catalog/GlobalCatalog is the exception: it lists the versions the
 * target remembers and changes with every backup and delete
 * (sim_catalog.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_time.h"

const sim_writer sim_writers[] = {
	{"e8132975-6f93-4464-a53e-1050253ae220", "System Writer",
	 "System Files", 0},
	{"afbab4a2-367d-4d15-a586-71dbb18f8485", "Registry Writer", "Registry",
	 0},
	{"542da469-d3e1-473c-9f4f-7847f01fc64f", "COM+ REGDB Writer",
	 "COM+ REGDB", 0},
	{"be000cbe-11fe-4426-9c58-531aa6355fc4", "ASR Writer", "ASR", 0},
	{"4dc3bdd4-ab48-4d07-adb0-3bee2926fd7f",
	 "Shadow Copy Optimization Writer", "Shadow Copy Optimization", 0},
	{"b2014c9e-8711-4c5c-a5a9-3cf384484757", "NTDS", "ntds", 1},
};
const size_t sim_nwriters = sizeof(sim_writers) / sizeof(sim_writers[0]);

#define ADDITIONAL_FILES "c3b9f3c7-5e52-4d5e-8b20-19adc95a34c7"
#define XML_HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
#define BLOCK_BYTES ((size_t)SIM_BLOCK_SECTORS * SIM_SECTOR)

static uint64_t machine_seed(const char *machine)
{
	return sim_mix64(
		sim_hash(machine, strlen(machine), 0xcbf29ce484222325ull));
}

void sim_snapset(char dst[37], const char *machine, const sim_version *v)
{
	sim_guid(dst, machine_seed(machine) ^ 0x736e6170ull ^ v->num,
		 (uint64_t)v->t);
}

/* The machine name as XML text. */
static char *xml_escape(const char *s)
{
	sv_buf b;

	sv_buf_init(&b, (size_t)4 << 10);
	sv_buf_adds(&b, "");
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sv_buf_adds(&b, "&amp;");
			break;
		case '<':
			sv_buf_adds(&b, "&lt;");
			break;
		case '>':
			sv_buf_adds(&b, "&gt;");
			break;
		case '"':
			sv_buf_adds(&b, "&quot;");
			break;
		case '\'':
			sv_buf_adds(&b, "&apos;");
			break;
		default:
			sv_buf_addc(&b, *s);
		}
	}
	return sv_buf_take(&b);
}

static sim_file *add_file(sim_tree *t, int is_image, const char *fmt, ...)
	SV_PRINTF(3, 4);

static sim_file *add_file(sim_tree *t, int is_image, const char *fmt, ...)
{
	sim_file *p, *f;
	sv_buf name;
	va_list ap;

	p = sv_realloc(t->files, (t->nfiles + 1) * sizeof(*p));
	if (!p)
		return NULL;
	t->files = p;
	sv_buf_init(&name, 1024);
	va_start(ap, fmt);
	sv_buf_vprintf(&name, fmt, ap);
	va_end(ap);
	f = &t->files[t->nfiles];
	memset(f, 0, sizeof(*f));
	f->rel = sv_buf_take(&name);
	if (!f->rel)
		return NULL;
	f->is_image = is_image;
	sv_buf_init(&f->data, (size_t)1 << 20);
	t->nfiles++;
	return f;
}

typedef struct tree_in {
	const char *machine; /* as given */
	char *xname;	     /* XML-escaped */
	uint64_t seed;
	const sim_version *v;
	char when[32]; /* "2026-07-18T11:01:26Z" */
} tree_in;

static int add_specs(sim_tree *t, const tree_in *in, const char *image)
{
	sim_file *f = add_file(t, 0, "%s/BackupSpecs.xml", t->folder);

	if (!f)
		return SV_ENOMEM;
	return sv_buf_printf(
		&f->data,
		XML_HEAD
		"<BackupSpecs Version=\"1.0\" ComputerName=\"%s\" "
		"BackupType=\"SystemState\" VersionNumber=\"%" PRIu32 "\" "
		"VersionIdentifier=\"%s\" BackupTime=\"%s\">\r\n"
		"  <SnapshotSet Id=\"{%s}\"/>\r\n"
		"  <Image File=\"%s\" SizeBytes=\"%" PRIu64 "\"/>\r\n"
		"  <FileSpecs>\r\n"
		"    <FileSpec Path=\"C:\\Windows\\System32\\config\" "
		"Name=\"*\" Recursive=\"false\" Include=\"true\"/>\r\n"
		"    <FileSpec Path=\"C:\\Windows\\WinSxS\" Name=\"*\" "
		"Recursive=\"true\" Include=\"true\"/>\r\n"
		"    <FileSpec Path=\"C:\\Windows\\System32\\drivers\" "
		"Name=\"*.sys\" Recursive=\"true\" Include=\"true\"/>\r\n"
		"    <FileSpec Path=\"C:\\Windows\\Logs\" Name=\"*\" "
		"Recursive=\"true\" Include=\"false\"/>\r\n"
		"  </FileSpecs>\r\n"
		"</BackupSpecs>\r\n",
		in->xname, in->v->num, in->v->id, in->when, t->snapset, image,
		sim_image_bytes(&t->img));
}

static int add_small_xml(sim_tree *t, const tree_in *in)
{
	sim_file *f;
	size_t i;

	f = add_file(t, 0, "%s/%s_AdditionalFiles" ADDITIONAL_FILES ".xml",
		     t->folder, t->snapset);
	if (!f ||
	    sv_buf_printf(
		    &f->data,
		    XML_HEAD
		    "<AdditionalFiles ComputerName=\"%s\" "
		    "VersionIdentifier=\"%s\">"
		    "\r\n  <File Path=\"C:\\bootmgr\"/>\r\n"
		    "  <File Path=\"C:\\Boot\\BCD\"/>\r\n"
		    "  <File Path=\"C:\\Windows\\System32\\winload.efi\"/>\r\n"
		    "</AdditionalFiles>\r\n",
		    in->xname, in->v->id) < 0)
		return SV_ENOMEM;
	f = add_file(t, 0, "%s/%s_Components.xml", t->folder, t->snapset);
	if (!f ||
	    sv_buf_printf(
		    &f->data,
		    XML_HEAD
		    "<Components ComputerName=\"%s\" VersionNumber=\"%" PRIu32
		    "\" SnapshotSetId=\"{%s}\">\r\n",
		    in->xname, in->v->num, t->snapset) < 0)
		return SV_ENOMEM;
	for (i = 0; i < sim_nwriters; i++)
		if (!sim_writers[i].dc_only || in->v->dc)
			sv_buf_printf(&f->data,
				      "  <Component WriterId=\"{%s}\""
				      " Name=\"%s\" Selected=\"true\"/>\r\n",
				      sim_writers[i].guid,
				      sim_writers[i].component);
	if (sv_buf_adds(&f->data, "</Components>\r\n") < 0)
		return SV_ENOMEM;
	f = add_file(t, 0, "%s/%s_RegistryExcludes.xml", t->folder, t->snapset);
	if (!f ||
	    sv_buf_printf(
		    &f->data,
		    XML_HEAD
		    "<RegistryExcludes ComputerName=\"%s\">\r\n"
		    "  <Key Path=\"HKLM\\SYSTEM\\CurrentControlSet\\Control\\"
		    "BackupRestore\\FilesNotToBackup\"/>\r\n"
		    "  <Key Path=\"HKLM\\SYSTEM\\CurrentControlSet\\Control\\"
		    "BackupRestore\\KeysNotToRestore\"/>\r\n"
		    "</RegistryExcludes>\r\n",
		    in->xname) < 0)
		return SV_ENOMEM;
	return 0;
}

static int add_writers(sim_tree *t, const tree_in *in)
{
	char inst[37];
	sim_file *f;
	size_t i;

	for (i = 0; i < sim_nwriters; i++) {
		const sim_writer *w = &sim_writers[i];

		if (w->dc_only && !in->v->dc)
			continue;
		sim_guid(inst, in->seed ^ (0x77726974ull + i), in->v->num);
		f = add_file(t, 0, "%s/%s_Writer%s.xml", t->folder, t->snapset,
			     w->guid);
		if (!f ||
		    sv_buf_printf(&f->data,
				  XML_HEAD
				  "<WRITER_METADATA version=\"1.2\">\r\n"
				  "  <IDENTIFICATION writerId=\"{%s}\" "
				  "instanceId=\"{%s}\" friendlyName=\"%s\" "
				  "usage=\"SYSTEM_SERVICE\" "
				  "dataSource=\"OTHER\"/>\r\n"
				  "  <BACKUP_LOCATIONS>\r\n"
				  "    <COMPONENT componentName=\"%s\" "
				  "logicalPath=\"%s\" "
				  "computerName=\"%s\" versionNumber=\"%" PRIu32
				  "\" "
				  "backupTime=\"%s\" selectable=\"yes\"/>\r\n"
				  "  </BACKUP_LOCATIONS>\r\n"
				  "</WRITER_METADATA>\r\n",
				  w->guid, inst, w->name, w->component, w->name,
				  in->xname, in->v->num, in->when) < 0)
			return SV_ENOMEM;
	}
	return 0;
}

static int add_global(sim_tree *t, const tree_in *in, const char *image,
		      uint64_t base_size)
{
	uint64_t st;
	char spp[37];
	sim_file *f;
	size_t i;

	f = add_file(t, 0, "Catalog/BackupGlobalCatalog");
	if (!f ||
	    sv_buf_printf(&f->data,
			  "WBADMIN-SIM BackupGlobalCatalog 1\r\nmachine=%s\r\n"
			  "version=%" PRIu32 ",%" PRId64 ",%d,%s\r\n"
			  "base-size=%" PRIu64
			  "\r\nfolder=%s\r\nimage=%s,%" PRIu64
			  "\r\nsnapshot-set={%s}\r\n",
			  in->machine, in->v->num, in->v->t, in->v->dc,
			  in->v->id, base_size, t->folder, image,
			  sim_image_bytes(&t->img), t->snapset) < 0)
		return SV_ENOMEM;
	for (i = 0; i < sim_nwriters; i++)
		if (!sim_writers[i].dc_only || in->v->dc)
			sv_buf_printf(&f->data, "writer={%s},%s\r\n",
				      sim_writers[i].guid, sim_writers[i].name);
	f = add_file(t, 0, "MediaId");
	st = sim_mix64(in->seed ^ 0x6d65646961ull);
	for (i = 0; f && i < 16; i++)
		sv_buf_addc(&f->data, (char)(sim_mix64(st + i) & 0xff));
	sim_guid(spp, in->seed ^ 0x737070ull, 0);
	f = add_file(t, 0, "SPPMetadataCache/{%s}", spp);
	if (!f || sv_buf_printf(&f->data,
				"SPPMetadataCache\r\nmachine=%s\r\n"
				"version=%" PRIu32 "\r\n",
				in->machine, in->v->num) < 0)
		return SV_ENOMEM;
	st = sim_mix64(in->seed ^ 0x73707064ull ^ in->v->num);
	for (i = 0; f->data.len < 4096; i++)
		sv_buf_addc(&f->data,
			    (char)(sim_mix64(st + i / 8) >> (8 * (i % 8))));
	return f->data.len == 4096 ? 0 : SV_ENOMEM;
}

int sim_tree_init(sim_tree *t, const char *machine, uint64_t base_size,
		  const sim_version *v)
{
	tree_in in;
	char image[48], id[37];
	sim_file *f;
	int rc;

	memset(t, 0, sizeof(*t));
	memset(&in, 0, sizeof(in));
	in.machine = machine;
	in.v = v;
	in.seed = machine_seed(machine);
	in.xname = xml_escape(machine);
	if (!in.xname)
		return SV_ENOMEM;
	sim_folder_name(t->folder, sizeof(t->folder), v->t);
	sim_guid(id, in.seed ^ 0x696d67ull, v->num);
	sv_snprintf(image, sizeof(image), "%s.vhdx", id);
	sim_snapset(t->snapset, machine, v);
	sv_time_format_utc(in.when, sizeof(in.when), v->t);
	if ((rc = sim_image_init(&t->img, machine, base_size, v->num)) < 0)
		goto fail;
	rc = SV_ENOMEM;
	f = add_file(t, 1, "%s/%s", t->folder, image);
	if (!f)
		goto fail;
	if ((rc = add_specs(t, &in, image)) < 0 ||
	    (rc = add_small_xml(t, &in)) < 0 ||
	    (rc = add_writers(t, &in)) < 0 ||
	    (rc = add_global(t, &in, image, base_size)) < 0)
		goto fail;
	free(in.xname);
	return 0;
fail:
	free(in.xname);
	sim_tree_release(t);
	return rc < 0 ? rc : SV_ENOMEM;
}

void sim_tree_release(sim_tree *t)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++) {
		free(t->files[i].rel);
		sv_buf_release(&t->files[i].data);
	}
	free(t->files);
	sim_image_release(&t->img);
	memset(t, 0, sizeof(*t));
}

/* ---- writing ---- */

static char *file_path(const char *mdir, const char *rel)
{
	char *p = sv_path_join(mdir, rel);

	if (p)
		sv_path_to_native(p);
	return p;
}

static int write_image(const sim_tree *t, const char *path, uint64_t stop_after,
		       sim_progress_fn progress, void *ud)
{
	uint64_t total = sim_image_bytes(&t->img), s, pos;
	uint8_t *buf = sv_malloc(BLOCK_BYTES);
	sv_file *f = NULL;
	size_t n, len;
	int rc;

	if (!buf)
		return SV_ENOMEM;
	if ((rc = sv_file_open(&f, path,
			       SV_O_WRITE | SV_O_CREATE | SV_O_TRUNC)) < 0)
		goto done;
	for (s = 0; s < t->img.sectors; s += n) {
		pos = s * SIM_SECTOR;
		if (progress && progress(ud, pos, total)) {
			rc = SV_ECANCELLED;
			goto done;
		}
		if (stop_after && pos >= stop_after)
			break;
		n = t->img.sectors - s < SIM_BLOCK_SECTORS
			    ? (size_t)(t->img.sectors - s)
			    : SIM_BLOCK_SECTORS;
		len = n * SIM_SECTOR;
		if (stop_after && stop_after - pos < len)
			len = (size_t)(stop_after - pos);
		sim_image_fill(&t->img, s, n, buf);
		if ((rc = sv_file_write(f, buf, len)) < 0)
			goto done;
	}
	if (progress && !stop_after)
		progress(ud, total, total);
done:
	if (sv_file_close(f) < 0 && rc == 0)
		rc = SV_EIO;
	free(buf);
	return rc;
}

int sim_tree_write(const sim_tree *t, const char *mdir, uint64_t stop_after,
		   sim_progress_fn progress, void *ud)
{
	char *path = NULL, *dir = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < t->nfiles && rc == 0; i++) {
		const sim_file *f = &t->files[i];

		rc = SV_ENOMEM;
		path = file_path(mdir, f->rel);
		dir = path ? sv_path_dirname(path) : NULL;
		if (!dir || (rc = sv_fs_mkdir_p(dir, 0)) < 0)
			goto next;
		if (f->is_image)
			rc = write_image(t, path, stop_after, progress, ud);
		else
			rc = sv_fs_write_atomic(path, f->data.ptr, f->data.len,
						0);
		if (rc == 0 && stop_after)
			i = t->nfiles; /* the crash: nothing after the image */
	next:
		free(path);
		free(dir);
		path = dir = NULL;
	}
	return rc;
}

/* ---- verifying ---- */

/* Reads up to n bytes (fewer only at the end of the file). */
static int read_full(sv_file *f, uint8_t *buf, size_t n, size_t *got)
{
	size_t r;
	int rc;

	*got = 0;
	while (*got < n) {
		if ((rc = sv_file_read(f, buf + *got, n - *got, &r)) < 0)
			return rc;
		if (r == 0)
			break;
		*got += r;
	}
	return 0;
}

/* Compares the next n expected bytes with the file: 1 and *at set at the
 * first difference (or where the file ends). */
static int cmp_chunk(sv_file *f, const uint8_t *exp, size_t n, uint8_t *tmp,
		     uint64_t pos, uint64_t *at)
{
	size_t got, i;

	if (read_full(f, tmp, n, &got) < 0) {
		*at = pos;
		return 1;
	}
	if (got == n && memcmp(exp, tmp, n) == 0)
		return 0;
	for (i = 0; i < got && exp[i] == tmp[i]; i++)
		;
	*at = pos + i;
	return 1;
}

/* 1 when the file differs from the expected content, with *at set. */
static int file_differs(const sim_tree *t, const sim_file *sf, sv_file *f,
			uint64_t *at)
{
	uint8_t *exp = NULL, *tmp = NULL, extra;
	uint64_t total, pos = 0, s;
	size_t n, got;
	int diff = 1;

	*at = 0;
	total = sf->is_image ? sim_image_bytes(&t->img) : sf->data.len;
	tmp = sv_malloc(BLOCK_BYTES);
	exp = sf->is_image ? sv_malloc(BLOCK_BYTES) : NULL;
	if (!tmp || (sf->is_image && !exp))
		goto done;
	if (!sf->is_image) {
		if (cmp_chunk(f, (const uint8_t *)sf->data.ptr, sf->data.len,
			      tmp, 0, at))
			goto done;
	} else {
		for (s = 0; s < t->img.sectors; s += n, pos += n * SIM_SECTOR) {
			n = t->img.sectors - s < SIM_BLOCK_SECTORS
				    ? (size_t)(t->img.sectors - s)
				    : SIM_BLOCK_SECTORS;
			sim_image_fill(&t->img, s, n, exp);
			if (cmp_chunk(f, exp, n * SIM_SECTOR, tmp, pos, at))
				goto done;
		}
	}
	if (read_full(f, &extra, 1, &got) < 0 || got != 0) {
		*at = total;
		goto done;
	}
	diff = 0;
done:
	free(exp);
	free(tmp);
	return diff;
}

static int check_files(const sim_tree *t, const char *mdir, sim_diff *d)
{
	size_t i;

	for (i = 0; i < t->nfiles && !d->kind; i++) {
		char *path = file_path(mdir, t->files[i].rel);
		sv_file *f = NULL;
		uint64_t at;
		int is_dir = 0;

		if (!path)
			return SV_ENOMEM;
		sv_strlcpy(d->rel, t->files[i].rel, sizeof(d->rel));
		if (sv_fs_stat(path, &is_dir, NULL) < 0 || is_dir ||
		    sv_file_open(&f, path, SV_O_READ) < 0)
			d->kind = M_REC_MISSING;
		else if (file_differs(t, &t->files[i], f, &at)) {
			d->kind = M_REC_DIFFERS;
			d->offset = at;
		}
		sv_file_close(f);
		free(path);
	}
	return 0;
}

/* Directory listing, sorted. */
typedef struct names {
	char **v;
	size_t n;
	int *is_dir;
} names;

static int collect(void *ud, const sv_dirent *e)
{
	names *ns = ud;
	char **v = sv_realloc(ns->v, (ns->n + 1) * sizeof(*v));
	int *d;

	if (!v)
		return SV_ENOMEM;
	ns->v = v;
	d = sv_realloc(ns->is_dir, (ns->n + 1) * sizeof(*d));
	if (!d)
		return SV_ENOMEM;
	ns->is_dir = d;
	if (!(v[ns->n] = sv_strdup(e->name)))
		return SV_ENOMEM;
	d[ns->n++] = e->is_dir && !e->is_link;
	return 0;
}

static void names_free(names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	free(ns->is_dir);
	memset(ns, 0, sizeof(*ns));
}

static int list_sorted(names *ns, const char *dir)
{
	size_t i, j;
	int rc;

	memset(ns, 0, sizeof(*ns));
	if ((rc = sv_fs_list_dir(dir, collect, ns)) < 0)
		return rc;
	for (i = 1; i < ns->n; i++) /* insertion sort: few entries */
		for (j = i; j > 0 && strcmp(ns->v[j - 1], ns->v[j]) > 0; j--) {
			char *s = ns->v[j];
			int k = ns->is_dir[j];

			ns->v[j] = ns->v[j - 1];
			ns->v[j - 1] = s;
			ns->is_dir[j] = ns->is_dir[j - 1];
			ns->is_dir[j - 1] = k;
		}
	return 0;
}

/* 1 when rel is an expected file (is_dir 0) or holds one (is_dir 1). */
static int expected(const sim_tree *t, const char *rel, int is_dir)
{
	size_t i, n = strlen(rel);

	if (!is_dir && strcmp(rel, "Catalog/GlobalCatalog") == 0)
		return 1;
	for (i = 0; i < t->nfiles; i++) {
		const char *f = t->files[i].rel;

		if (!is_dir && strcmp(f, rel) == 0)
			return 1;
		if (is_dir && strncmp(f, rel, n) == 0 && f[n] == '/')
			return 1;
	}
	return 0;
}

static int check_extra(const sim_tree *t, const char *mdir, const char *rel,
		       sim_diff *d)
{
	char *dir = rel[0] ? file_path(mdir, rel) : sv_strdup(mdir), *sub;
	names ns;
	size_t i;
	int rc;

	if (!dir)
		return SV_ENOMEM;
	rc = list_sorted(&ns, dir);
	for (i = 0; rc == 0 && i < ns.n && !d->kind; i++) {
		sub = rel[0] ? sv_aprintf("%s/%s", rel, ns.v[i])
			     : sv_strdup(ns.v[i]);
		if (!sub) {
			rc = SV_ENOMEM;
			break;
		}
		if (!expected(t, sub, ns.is_dir[i])) {
			d->kind = M_REC_EXTRA;
			sv_strlcpy(d->rel, sub, sizeof(d->rel));
		} else if (ns.is_dir[i]) {
			rc = check_extra(t, mdir, sub, d);
		}
		free(sub);
	}
	names_free(&ns);
	free(dir);
	return rc;
}

static int check_newest(const sim_tree *t, const char *mdir, sim_diff *d)
{
	names ns;
	size_t i;
	int rc;

	if ((rc = list_sorted(&ns, mdir)) < 0)
		return rc;
	for (i = 0; i < ns.n; i++)
		if (ns.is_dir[i] && sv_str_startswith(ns.v[i], "Backup ") &&
		    strcmp(ns.v[i], t->folder) > 0) {
			d->kind = M_REC_NOT_NEWEST;
			sv_strlcpy(d->rel, ns.v[i], sizeof(d->rel));
		}
	names_free(&ns);
	return 0;
}

int sim_tree_verify(const sim_tree *t, const char *mdir, sim_diff *d)
{
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = check_newest(t, mdir, d)) < 0 || d->kind)
		return rc;
	if ((rc = check_files(t, mdir, d)) < 0 || d->kind)
		return rc;
	if ((rc = check_extra(t, mdir, "", d)) < 0 || d->kind)
		return rc;
	d->rel[0] = '\0';
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* list.h - the circular doubly linked list the allocator keeps its slots in (the
 * kernel's list_head, the few operations used). */
#ifndef PCPU_SRC_LIST_H
#define PCPU_SRC_LIST_H

#include <stdbool.h>

struct pcpu_list {
	struct pcpu_list *prev, *next;
};

static inline void list_init(struct pcpu_list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct pcpu_list *l)
{
	return l->next == l;
}

static inline void list_del_init(struct pcpu_list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	list_init(e);
}

static inline void list_add_front(struct pcpu_list *e, struct pcpu_list *head)
{
	e->next = head->next;
	e->prev = head;
	head->next->prev = e;
	head->next = e;
}

static inline void list_add_tail(struct pcpu_list *e, struct pcpu_list *head)
{
	list_add_front(e, head->prev);
}

#endif

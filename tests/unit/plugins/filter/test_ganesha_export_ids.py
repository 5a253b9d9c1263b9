"""Unit tests of filter stateful.nfs.ganesha_export_ids (the plan itself: module_utils/test_ganesha.py)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.stateful.nfs.plugins.filter.ganesha_export_ids import FilterModule, ganesha_export_ids

MARK = 'managed by stateful.nfs.nfs_server'


def test_filter_plans_and_checks_its_arguments():
    assert FilterModule().filters()['ganesha_export_ids'] is ganesha_export_ids
    assert ganesha_export_ids(None, ['/a'], MARK)['ids'] == {'/a': 1}
    for args, match in [((5, ['/a'], MARK), 'configuration text'), (('', '/a', MARK), 'list of strings'),
                        (('', ['/a'], ' '), 'marker')]:
        with pytest.raises(AnsibleFilterError, match=match):
            ganesha_export_ids(*args)

"""Patch a config copied with ``xtuner copy-cfg`` so that it trains on a local conversation file.

The XTuner v0.1.9 walk-through makes these edits by hand in
``internlm_chat_7b_qlora_oasst1_e3_copy.py``. It sets the module-level
settings and loads the training file with ``dataset=dict(type=load_dataset,
path='json', data_files=dict(train=data_path))``. It sets
``dataset_map_fn=None``, because the records are already in XTuner's
conversation format, and drops the map-function import that this leaves unused.

libcst keeps every comment and the layout of the lines it does not change. A
value already equal to the new one is left as written, so a second run
changes nothing.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, TypeGuard, Union

import libcst as cst
from libcst.metadata import GlobalScope, MetadataWrapper, ScopeProvider

from promptgen.errors import PromptgenError, SettingsError
from promptgen.fsutil import write_atomic

DATA_PATH = "data_path"
# The name XTuner v0.1.9 configs give the system text of the evaluation chats.
DEFAULT_SYSTEM_NAME = "SYSTEM"
EVALUATION_INPUTS = "evaluation_inputs"

SettingValue = Union[str, int, float, list[str]]


class ConfigError(PromptgenError):
    """An XTuner config that does not parse, or that lacks a setting to patch."""


@dataclass(frozen=True)
class ConfigChanges:
    """Settings to write into a config. None leaves a setting as it is."""

    data_path: str
    model: Optional[str] = None
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    max_length: Optional[int] = None
    lr: Optional[float] = None
    evaluation_inputs: Optional[tuple[str, ...]] = None
    system: Optional[str] = None

    def __post_init__(self) -> None:
        if not self.data_path.strip():
            raise SettingsError("empty --data-path: give the training file, for example --data-path train.jsonl")
        for option, value in (("--epochs", self.epochs), ("--batch-size", self.batch_size), ("--max-length", self.max_length)):
            if value is not None and value < 1:
                raise SettingsError(f"invalid {option} {value}: give a whole number of at least 1")
        if self.lr is not None and not self.lr > 0:
            raise SettingsError(f"invalid --lr {self.lr}: give a positive learning rate, for example --lr 2e-4")
        if self.evaluation_inputs is not None and not self.evaluation_inputs:
            raise SettingsError("no --evaluation-input given: repeat the option once per question")

    def module_settings(self) -> list[tuple[str, SettingValue]]:
        """Return (config variable, value) for each plain module-level setting that was given."""
        pairs: list[tuple[str, Any]] = [
            ("pretrained_model_name_or_path", self.model),
            ("max_epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("max_length", self.max_length),
            ("lr", self.lr),
            (EVALUATION_INPUTS, list(self.evaluation_inputs) if self.evaluation_inputs is not None else None),
        ]
        return [(name, value) for name, value in pairs if value is not None]


@dataclass(frozen=True)
class ConfigPatch:
    """The config text before and after patching, and what was done beyond setting values."""

    original: str
    patched: str
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.original != self.patched

    def diff(self, name: str) -> str:
        """Return a unified diff of the change, empty when nothing changed."""
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.patched.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
        return "".join(lines)


def parse_config(source: str, filename: str) -> cst.Module:
    """Parse config source, raising ConfigError that names the file and the line on a syntax error."""
    # CPython's parser runs first because its line numbers and messages are exact; libcst 1.0.1's
    # editor_line is sometimes one line past the error.
    try:
        ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise ConfigError(
            f"{filename}: line {exc.lineno}: not valid Python ({exc.msg}); fix it or copy the config again with xtuner copy-cfg"
        ) from None
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        # NOTE: no test reaches this branch; it needs syntax that CPython accepts and libcst 1.0.1 does not.
        reason = str(exc.message).splitlines()[0]
        raise ConfigError(f"{filename}: line {exc.editor_line}: libcst cannot parse this syntax ({reason}); make the edits by hand") from None


def _literal_code(value: SettingValue) -> str:
    if isinstance(value, list):
        items = "".join(f"    {item!r},\n" for item in value)
        return f"[\n{items}]"
    return repr(value)


def _same_value(code: str, value: SettingValue) -> bool:
    """True when ``code`` is a literal equal to ``value``, such as ``2e-4`` for 0.0002."""
    try:
        current = ast.literal_eval(code)
    except (ValueError, SyntaxError, TypeError):
        return False
    numbers = (int, float)
    if isinstance(current, numbers) and isinstance(value, numbers) and not isinstance(current, bool):
        return current == value
    return type(current) is type(value) and current == value


def _same_expression(first: str, second: str) -> bool:
    """True when two expressions differ only in layout, comments or parentheses."""
    try:
        return ast.dump(ast.parse(f"(\n{first}\n)", mode="eval")) == ast.dump(ast.parse(f"(\n{second}\n)", mode="eval"))
    except SyntaxError:
        return False


def _keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def _is_dict_call(node: cst.BaseExpression) -> TypeGuard[cst.Call]:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict"


def _replace_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    args = [arg.with_changes(value=value) if arg.keyword is not None and arg.keyword.value == name else arg for arg in call.args]
    return call.with_changes(args=args)


def _names_in(node: cst.CSTNode) -> set[str]:
    """Return every identifier in ``node``, so that imports it used can be checked afterwards."""
    found: set[str] = set()

    class Collector(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.add(name.value)

    node.visit(Collector())
    return found


@dataclass
class _Patcher:
    """Edits the top-level statements of one config; every edit goes through ``body``."""

    module: cst.Module
    body: list[cst.BaseStatement] = field(init=False)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    displaced: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.body = list(self.module.body)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # Module-level assignments ------------------------------------------------------------

    def find(self, name: str) -> Optional[int]:
        """Return the index of the last top-level ``name = ...`` statement, the one that takes effect."""
        found = None
        for index, statement in enumerate(self.body):
            assign = self._assign(statement)
            if assign is not None and isinstance(assign.targets[0].target, cst.Name) and assign.targets[0].target.value == name:
                found = index
        return found

    @staticmethod
    def _assign(statement: cst.BaseStatement) -> Optional[cst.Assign]:
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                return small
        return None

    def value_of(self, index: int) -> cst.BaseExpression:
        assign = self._assign(self.body[index])
        assert assign is not None
        return assign.value

    def replace_value(self, index: int, value: cst.BaseExpression) -> None:
        statement = self.body[index]
        assert isinstance(statement, cst.SimpleStatementLine)
        assign = self._assign(statement)
        assert assign is not None
        self.displaced |= _names_in(assign.value)
        self.body[index] = statement.with_changes(body=[assign.with_changes(value=value)])

    def set_literal(self, name: str, value: SettingValue) -> None:
        index = self.find(name)
        if index is None:
            self.missing.append(name)
            return
        if not _same_value(self.code(self.value_of(index)), value):
            self.replace_value(index, cst.parse_expression(_literal_code(value)))

    def rename(self, index: int, new_name: str) -> None:
        statement = self.body[index]
        assert isinstance(statement, cst.SimpleStatementLine)
        assign = self._assign(statement)
        assert assign is not None
        target = assign.targets[0].with_changes(target=cst.Name(new_name))
        self.body[index] = statement.with_changes(body=[assign.with_changes(targets=[target])])

    # The training dataset ----------------------------------------------------------------

    def train_dataset_index(self) -> Optional[int]:
        """Find the dataset dict that train_dataloader uses (train_dataset, or alpaca_en in alpaca configs)."""
        loader_index = self.find("train_dataloader")
        if loader_index is None:
            return self.find("train_dataset")
        loader = self.value_of(loader_index)
        arg = _keyword(loader, "dataset") if _is_dict_call(loader) else None
        if arg is not None and isinstance(arg.value, cst.Name):
            return self.find(arg.value.value)
        return None

    def patch_dataset(self, data_path: str) -> None:
        index = self.train_dataset_index()
        dataset_call = self.value_of(index) if index is not None else None
        if index is None or dataset_call is None or not _is_dict_call(dataset_call):
            self.missing.append("the training dataset (train_dataloader's dataset=..., or train_dataset = dict(...))")
            return
        loader_arg = _keyword(dataset_call, "dataset")
        loader = loader_arg.value if loader_arg is not None else None
        map_fn = _keyword(dataset_call, "dataset_map_fn")
        if loader is None or not _is_dict_call(loader):
            self.missing.append("dataset=dict(type=load_dataset, ...) in the training dataset")
            return
        if map_fn is None:
            self.missing.append("dataset_map_fn=... in the training dataset")
            return
        if not self.ensure_data_path_variable(loader):
            return
        self.set_literal(DATA_PATH, data_path)

        type_arg = _keyword(loader, "type")
        loader_type = self.code(type_arg.value) if type_arg is not None else "load_dataset"
        json_loader = f"dict(type={loader_type}, path='json', data_files=dict(train={DATA_PATH}))"
        if not _same_expression(self.code(loader), json_loader):
            self.displaced |= _names_in(loader)
            dataset_call = _replace_keyword(dataset_call, "dataset", cst.parse_expression(json_loader))
        if not _same_expression(self.code(map_fn.value), "None"):
            self.displaced |= _names_in(map_fn.value)
            dataset_call = _replace_keyword(dataset_call, "dataset_map_fn", cst.Name("None"))
        if dataset_call is not self.value_of(index):
            self.replace_value(index, dataset_call)

    def ensure_data_path_variable(self, loader: cst.Call) -> bool:
        """Make sure a top-level ``data_path`` exists, renaming the variable the loader reads if needed."""
        if self.find(DATA_PATH) is not None:
            return True
        path_arg = _keyword(loader, "path")
        old_name = path_arg.value.value if path_arg is not None and isinstance(path_arg.value, cst.Name) else None
        old_index = self.find(old_name) if old_name is not None else None
        # Renaming is safe only when the loader is the variable's one reader, as alpaca_en_path is in alpaca configs.
        if old_name is None or old_index is None or _count_accesses(self.module, old_name) != 1:
            self.missing.append(DATA_PATH)
            return False
        self.rename(old_index, DATA_PATH)
        self.notes.append(f"renamed {old_name} to {DATA_PATH}")
        return True

    # System text of the evaluation chats --------------------------------------------------

    def evaluation_hook(self) -> Optional[tuple[int, int, cst.Call]]:
        """Find the dict in custom_hooks that has evaluation_inputs=: (statement index, element index, call)."""
        index = self.find("custom_hooks")
        if index is None:
            return None
        hooks = self.value_of(index)
        if not isinstance(hooks, cst.List):
            return None
        for position, element in enumerate(hooks.elements):
            if _is_dict_call(element.value) and _keyword(element.value, EVALUATION_INPUTS) is not None:
                return index, position, element.value
        return None

    def set_system(self, system: str) -> None:
        hook = self.evaluation_hook()
        system_arg = _keyword(hook[2], "system") if hook is not None else None
        name = DEFAULT_SYSTEM_NAME
        if system_arg is not None and isinstance(system_arg.value, cst.Name):
            name = system_arg.value.value
        if self.find(name) is not None:
            self.set_literal(name, system)
            return

        anchor = self.find(EVALUATION_INPUTS)
        if anchor is None:
            self.missing.append(f"{EVALUATION_INPUTS} (a new {name} = ... goes after it)")
            return
        if hook is None:
            self.notes.append(f"no EvaluateChatHook with evaluation_inputs= found in custom_hooks, so nothing reads {name}")
        elif system_arg is None or not isinstance(system_arg.value, cst.Name):
            self._point_hook_at(hook, name)
            self.notes.append(f"set system={name} in the EvaluateChatHook")
        self.body.insert(anchor + 1, cst.parse_statement(f"{name} = {system!r}\n"))
        self.notes.append(f"added {name} after {EVALUATION_INPUTS}")

    def _point_hook_at(self, hook: tuple[int, int, cst.Call], name: str) -> None:
        index, position, call = hook
        system_arg = _keyword(call, "system")
        if system_arg is not None:
            new_call = _replace_keyword(call, "system", cst.Name(name))
        else:
            new_call = call.with_changes(args=_insert_after_keyword(call.args, EVALUATION_INPUTS, "system", name))
        hooks = self.value_of(index)
        assert isinstance(hooks, cst.List)
        elements = list(hooks.elements)
        elements[position] = elements[position].with_changes(value=new_call)
        self.replace_value(index, hooks.with_changes(elements=elements))


def _insert_after_keyword(args: Sequence[cst.Arg], anchor: str, keyword: str, name: str) -> list[cst.Arg]:
    """Insert ``keyword=name`` after the ``anchor=`` argument, copying the comma and line break between arguments."""
    result: list[cst.Arg] = []
    for position, arg in enumerate(args):
        result.append(arg)
        if arg.keyword is None or arg.keyword.value != anchor:
            continue
        if position < len(args) - 1:
            result.append(_keyword_arg(keyword, name, comma=_copy_comma(arg.comma)))
        else:
            # The anchor is last: it takes the separator used before it, and the new argument takes its ending.
            separator = args[position - 1].comma if position > 0 else cst.MaybeSentinel.DEFAULT
            result[-1] = arg.with_changes(comma=_copy_comma(separator))
            result.append(_keyword_arg(keyword, name, comma=arg.comma))
    return result


def _copy_comma(comma: Union[cst.Comma, cst.MaybeSentinel]) -> cst.Comma:
    # A node may appear only once in a tree, so a separator used twice is cloned.
    if isinstance(comma, cst.Comma):
        return comma.deep_clone()
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _keyword_arg(keyword: str, name: str, *, comma: Union[cst.Comma, cst.MaybeSentinel]) -> cst.Arg:
    no_space = cst.SimpleWhitespace("")
    return cst.Arg(
        value=cst.Name(name),
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space),
        comma=comma,
    )


def _global_scope(wrapper: MetadataWrapper) -> GlobalScope:
    scopes = wrapper.resolve(ScopeProvider)
    return next(scope for scope in scopes.values() if isinstance(scope, GlobalScope))


def _count_accesses(module: cst.Module, name: str) -> int:
    return len(_global_scope(MetadataWrapper(module)).accesses[name])


def _remove_unused_imports(module: cst.Module, candidates: set[str]) -> tuple[cst.Module, list[str]]:
    """Drop ``from ... import`` names among ``candidates`` that nothing reads any more."""
    wrapper = MetadataWrapper(module)
    scope = _global_scope(wrapper)
    module = wrapper.module  # The wrapper resolved metadata on its own copy of the tree, so edit that copy.
    removed: list[str] = []
    body: list[cst.BaseStatement] = []
    for statement in module.body:
        if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(statement.body[0], cst.ImportFrom)):
            body.append(statement)
            continue
        import_from = statement.body[0]
        if isinstance(import_from.names, cst.ImportStar):
            body.append(statement)
            continue
        kept_aliases = []
        for alias in import_from.names:
            bound = alias.evaluated_alias or alias.evaluated_name
            if bound in candidates and not scope.accesses[bound]:
                removed.append(bound)
            else:
                kept_aliases.append(alias)
        if len(kept_aliases) == len(import_from.names):
            body.append(statement)
        elif kept_aliases:
            kept_aliases[-1] = kept_aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            body.append(statement.with_changes(body=[import_from.with_changes(names=kept_aliases)]))
    return module.with_changes(body=body), removed


def patch_config(source: str, changes: ConfigChanges, *, filename: str = "config.py") -> ConfigPatch:
    """Return ``source`` with ``changes`` applied; raise ConfigError naming every setting that is missing."""
    module = parse_config(source, filename)
    patcher = _Patcher(module)
    for name, value in changes.module_settings():
        patcher.set_literal(name, value)
    patcher.patch_dataset(changes.data_path)
    if changes.system is not None:
        patcher.set_system(changes.system)
    if patcher.missing:
        raise ConfigError(
            f"{filename}: cannot find {', '.join(patcher.missing)}; the file was left unchanged. "
            "Copy the config again with xtuner copy-cfg, or add the setting by hand"
        )

    patched = module.with_changes(body=patcher.body)
    if patcher.displaced:
        patched, removed = _remove_unused_imports(patched, patcher.displaced)
        patcher.notes.extend(f"removed the unused import {name}" for name in removed)
    return ConfigPatch(original=source, patched=patched.code, notes=tuple(patcher.notes))


def read_config(path: Path) -> str:
    """Read a config as UTF-8 text, keeping its line endings."""
    if not path.exists():
        raise ConfigError(f"config not found: {path}; copy one first, for example xtuner copy-cfg internlm_chat_7b_qlora_oasst1_e3 .")
    if path.is_dir():
        raise ConfigError(f"config {path} is a folder: give the .py file that xtuner copy-cfg wrote")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 (byte 0x{exc.object[exc.start]:02X} at offset {exc.start}): save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}; check the file's permissions") from None


def patch_config_file(path: Path, changes: ConfigChanges, *, write: bool = False) -> ConfigPatch:
    """Patch the config at ``path``; with ``write``, replace the file atomically when something changed."""
    result = patch_config(read_config(path), changes, filename=str(path))
    if write and result.changed:
        write_atomic(path, result.patched)
    return result
